package insights

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// The Microsoft.Authorization policy types whose changes re-evaluate
// compliance.
const (
	TypeAssignment    = "Microsoft.Authorization/policyAssignments"
	TypeDefinition    = "Microsoft.Authorization/policyDefinitions"
	TypeSetDefinition = "Microsoft.Authorization/policySetDefinitions"
	TypeExemption     = "Microsoft.Authorization/policyExemptions"
)

// isPolicyType reports whether a write of typ changes what is assigned.
func isPolicyType(typ string) bool {
	for _, t := range []string{TypeAssignment, TypeDefinition, TypeSetDefinition, TypeExemption} {
		if strings.EqualFold(t, typ) {
			return true
		}
	}
	return false
}

// evaluated reports whether resources of typ get policy states: everything
// but the policy objects themselves, this provider's own types and the
// Cloud's bookkeeping documents.
func evaluated(typ string) bool {
	t := strings.ToLower(typ)
	switch {
	case strings.HasPrefix(t, "microsoft.authorization/policy"), strings.HasPrefix(t, "microsoft.policyinsights/"),
		t == strings.ToLower(cloud.TypeTags), t == strings.ToLower(cloud.TypeOperationResult),
		strings.HasPrefix(t, "microsoft.management/"):
		return false
	}
	return true
}

// compiled is one assignment ready to evaluate.
type compiled struct {
	a *policy.Assignment
	// eval is the assignment with its scope cleared: the scope (with
	// management groups) and notScopes are checked by InScope first.
	eval *policy.Assigned
	// src is the compiled assignment as given.
	src *policy.Assigned
	// members are the definitions the assignment evaluates, for finding the
	// assignments a definition change affects.
	members map[string]bool
	// types are the lower-case resource types the assignment can give a
	// state to (nil: any type; types.go).
	types map[string]bool
	// gen numbers the assignment's version: it changes whenever the
	// assignment, a definition it evaluates or an exemption of it changes
	// (digest.go). It is drawn from the sums of those documents, so that
	// it is the same in every process, unless the snapshot is volatile;
	// fp digests those stored documents.
	gen uint64
	fp  [sha256.Size]byte
}

// policies is a snapshot of what is assigned.
type policies struct {
	assigned   []*compiled
	exemptions []*policy.Exemption
	info       map[string]*assignmentInfo
	// errors are the assignments that failed to compile, by ID.
	errors map[string]error
	// gen numbers what the snapshot holds that no one assignment's gen
	// covers: it changes whenever an assignment that does
	// not compile, an exemption that does not parse or that names no
	// assignment of the snapshot changes, or, with the policy provider,
	// the exemptions (digest.go); fp is the digest of those stored
	// documents (store-compiled snapshots only).
	gen uint64
	fp  [sha256.Size]byte
	// prev is the snapshot this one replaced (without its own prev), for
	// an assignment's scan to renew the digests it leaves valid.
	prev *policies
	// clock is set when a rule in effect calls utcNow().
	clock bool
	// volatile is set when a gen is a number of this process only: a
	// policy was not parsed from a document (it has no source sum), so
	// that the same gen in another process may stand for another policy.
	volatile bool
}

// loadPolicies reads and compiles every assignment and exemption in the
// store.
func (e *Engine) loadPolicies(ctx context.Context) (*policies, error) {
	ps := &policies{info: map[string]*assignmentInfo{}, errors: map[string]error{}}
	// fp digests the stored documents no assignment's fp covers; cur,
	// while an assignment compiles, the documents it is compiled from.
	fp := sha256.New()
	var cur hash.Hash
	note := func(b []byte) {
		if cur != nil {
			writeField(cur, b)
		} else {
			writeField(fp, b)
		}
	}
	res := policy.Resolvers{
		Definition: func(id string) (*policy.Definition, error) {
			if d, err := e.storedDocument(ctx, id, TypeDefinition); err == nil {
				note(d)
				return policy.ParseDefinition(d)
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if e.opts.Definitions.Definition != nil {
				d, err := e.opts.Definitions.Definition(id)
				if d != nil {
					ps.noteSource(note, d.Source())
				}
				return d, err
			}
			return nil, fmt.Errorf("policy definition %s not found", id)
		},
		Set: func(id string) (*policy.SetDefinition, error) {
			if d, err := e.storedDocument(ctx, id, TypeSetDefinition); err == nil {
				note(d)
				return policy.ParseSetDefinition(d)
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if e.opts.Definitions.Set != nil {
				d, err := e.opts.Definitions.Set(id)
				if d != nil {
					ps.noteSource(note, d.Source())
				}
				return d, err
			}
			return nil, fmt.Errorf("policy set definition %s not found", id)
		},
	}
	if e.opts.Assignments != nil {
		assigned, exemptions, err := e.opts.Assignments(ctx)
		if err != nil {
			return nil, err
		}
		prev := e.snapshot()
		if prev != nil && sameSource(prev, assigned, exemptions) {
			return prev, nil
		}
		for _, x := range assigned {
			ps.add(x)
		}
		ps.exemptions = exemptions
		ps.providerGens(prev)
		return ps, nil
	}
	sums := map[string]hash.Hash{}
	err := e.eachDocument(ctx, TypeAssignment, func(r cloud.Resource, raw []byte) error {
		cur = sha256.New()
		defer func() { cur = nil }()
		writeField(cur, raw)
		a, err := policy.ParseAssignment(raw)
		if err != nil {
			writeField(fp, raw)
			ps.errors[strings.ToLower(r.ID)] = err
			return nil
		}
		if a.ID == "" {
			a.ID = r.ID
		}
		if a.Scope == "" {
			a.Scope = assignmentScope(r.ID)
		}
		x, err := policy.CompileAssignment(a, res, policy.CompileOptions{Aliases: e.opts.Aliases, AllowUnknownAliases: true})
		if err != nil {
			writeField(fp, raw)
			ps.errors[strings.ToLower(r.ID)] = err
			e.log.Warn("policy assignment does not compile; it is not evaluated", "id", r.ID, "err", err)
			return nil
		}
		ps.add(x)
		sums[assignmentKey(x.Assignment.ID)] = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = e.eachDocument(ctx, TypeExemption, func(r cloud.Resource, raw []byte) error {
		x, err := policy.ParseExemption(raw)
		if err != nil {
			writeField(fp, raw)
			e.log.Warn("policy exemption does not parse; it is not honoured", "id", r.ID, "err", err)
			return nil
		}
		if h := sums[assignmentKey(x.PolicyAssignmentID)]; h != nil {
			writeField(h, raw)
		} else {
			writeField(fp, raw)
		}
		if x.Scope == "" {
			x.Scope = exemptionScope(r.ID)
		}
		ps.exemptions = append(ps.exemptions, x)
		return nil
	})
	// The gens are drawn from the digests of the documents: the stored
	// ones, and the sums of those Options.Definitions served (built-ins).
	fp.Sum(ps.fp[:0])
	ps.gen = genOf(ps.fp[:], "")
	for _, c := range ps.assigned {
		k := assignmentKey(c.a.ID)
		sums[k].Sum(c.fp[:0])
		c.gen = genOf(c.fp[:], k)
	}
	ps.setPrev(e.snapshot())
	return ps, err
}

// noteSource notes the sum of a definition that was not read from the
// store; one without a sum makes the snapshot volatile.
func (ps *policies) noteSource(note func([]byte), src policy.SourceSum) {
	if !src.Known {
		ps.volatile = true
		return
	}
	note(src.Sum[:])
}

// genOf draws a gen from a digest and the assignment key k it is of.
func genOf(sum []byte, k string) uint64 {
	h := sha256.New()
	h.Write(sum)
	h.Write([]byte(k))
	var b [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(b[:0])) | 1 // never 0
}

// providerGens numbers the versions of a snapshot handed over by the
// policy provider. The gens are drawn from the sums of the documents the
// provider parsed (the assignment, its definition or set and the set's
// members; the exemptions for the snapshot's own gen), so they are the
// same in every process; an assignment handed over as the same compiled
// object keeps its gen. Where a sum is missing, the gens are numbers of
// this process and the snapshot is volatile.
func (ps *policies) providerGens(prev *policies) {
	h := sha256.New()
	for _, x := range ps.exemptions {
		ps.addSource(h, x.Source())
	}
	ps.gen = genOf(h.Sum(nil), "")
	for _, c := range ps.assigned {
		if p := prev.byKey(assignmentKey(c.a.ID)); p != nil && p.src == c.src {
			c.gen = p.gen
			ps.volatile = ps.volatile || prev.volatile
			continue
		}
		h := sha256.New()
		ps.addSource(h, c.a.Source())
		if c.src.Policy != nil {
			ps.addSource(h, c.src.Policy.Definition().Source())
		}
		if c.src.Set != nil {
			ps.addSource(h, c.src.Set.Set.Source())
			for _, m := range c.src.Set.Members {
				if m.Policy != nil {
					ps.addSource(h, m.Policy.Definition().Source())
				}
			}
		}
		c.gen = genOf(h.Sum(nil), assignmentKey(c.a.ID))
	}
	if ps.volatile {
		// Numbers of this process, changing with every compiled object.
		ps.gen = policyGens.Add(1)
		for _, c := range ps.assigned {
			if p := prev.byKey(assignmentKey(c.a.ID)); p != nil && p.src == c.src && prev.volatile {
				c.gen = p.gen
			} else {
				c.gen = policyGens.Add(1)
			}
		}
	}
	ps.setPrev(prev)
}

// addSource writes a document's sum to h; a missing one makes the
// snapshot volatile.
func (ps *policies) addSource(h hash.Hash, src policy.SourceSum) {
	if !src.Known {
		ps.volatile = true
	}
	writeField(h, src.Sum[:])
}

// setPrev records the snapshot ps replaces, without the one before it;
// when the two have the same gens (a reload that found nothing changed,
// as the scan that a change queued does after the change's own reload),
// the one prev replaced.
func (ps *policies) setPrev(prev *policies) {
	if prev == nil {
		return
	}
	if sameGens(ps, prev) {
		ps.prev = prev.prev
		return
	}
	p := *prev
	p.prev = nil
	ps.prev = &p
}

// sameGens reports whether two snapshots number the same versions.
func sameGens(a, b *policies) bool {
	if a.gen != b.gen || len(a.assigned) != len(b.assigned) {
		return false
	}
	for i, c := range a.assigned {
		if c.gen != b.assigned[i].gen {
			return false
		}
	}
	return true
}

// assignmentKey is the lower-case form of an assignment ID that compiled
// assignments and exemptions are matched by.
func assignmentKey(id string) string { return strings.ToLower(strings.TrimRight(id, "/")) }

// byKey is the compiled assignment whose assignmentKey is k (nil when
// none, or when ps is nil).
func (ps *policies) byKey(k string) *compiled {
	if ps == nil {
		return nil
	}
	for _, c := range ps.assigned {
		if assignmentKey(c.a.ID) == k {
			return c
		}
	}
	return nil
}

// sameSource reports whether a snapshot was built from these very
// compiled assignments and exemptions.
func sameSource(ps *policies, assigned []*policy.Assigned, exemptions []*policy.Exemption) bool {
	if len(ps.assigned) != len(assigned) || len(ps.exemptions) != len(exemptions) {
		return false
	}
	for i, x := range assigned {
		if ps.assigned[i].src != x {
			return false
		}
	}
	for i, x := range exemptions {
		if ps.exemptions[i] != x {
			return false
		}
	}
	return true
}

// byID is the compiled assignment with the lower-case ID id (nil when
// none).
func (ps *policies) byID(id string) *compiled {
	for _, c := range ps.assigned {
		if strings.ToLower(c.a.ID) == id {
			return c
		}
	}
	return nil
}

// add records a compiled assignment.
func (ps *policies) add(x *policy.Assigned) {
	a := x.Assignment
	scoped := *a
	scoped.Scope = ""
	eval := policy.Assigned{Assignment: &scoped, Policy: x.Policy, Set: x.Set}
	c := &compiled{a: a, eval: &eval, src: x, members: map[string]bool{strings.ToLower(a.PolicyDefinitionID): true}}
	if x.Set != nil {
		for _, m := range x.Set.Members {
			c.members[strings.ToLower(m.DefinitionID)] = true
		}
	}
	c.types = applicableTypes(c)
	ps.clock = ps.clock || readsClock(x)
	params, _ := json.Marshal(wrapParameters(a.Parameters))
	ps.info[strings.ToLower(a.ID)] = &assignmentInfo{Parameters: string(params)}
	ps.assigned = append(ps.assigned, c)
}

// wrapParameters renders assigned values in the {"p": {"value": v}} form
// of policyAssignmentParameters.
func wrapParameters(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = map[string]any{"value": v}
	}
	return out
}

func exemptionScope(id string) string {
	if i := strings.Index(strings.ToLower(id), "/providers/microsoft.authorization/policyexemptions/"); i > 0 {
		return id[:i]
	}
	return ""
}

// storedDocument reads a document of typ by ID as JSON.
func (e *Engine) storedDocument(ctx context.Context, id, typ string) ([]byte, error) {
	r, err := e.cloud.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(r.Type, typ) {
		return nil, store.ErrNotFound
	}
	return json.Marshal(r.Doc)
}

// eachDocument calls fn with every stored document of typ.
func (e *Engine) eachDocument(ctx context.Context, typ string, fn func(cloud.Resource, []byte) error) error {
	after := ""
	for {
		page, next, err := e.cloud.List(ctx, cloud.ListQuery{Type: typ, Limit: store.MaxPageSize, After: after})
		if err != nil {
			return err
		}
		for _, r := range page {
			raw, err := json.Marshal(r.Doc)
			if err != nil {
				return err
			}
			if err := fn(r, raw); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// affectedScopes returns the scopes to re-evaluate after a policy object
// changed: an assignment's scope, an exemption's scope, or the scopes of
// the assignments that use a changed definition or set.
func affectedScopes(ps *policies, ch cloud.Change, doc map[string]any) []string {
	switch {
	case strings.EqualFold(ch.Type, TypeAssignment):
		scope, _ := propString(doc, "scope")
		if scope == "" {
			scope = assignmentScope(ch.ID)
		}
		return []string{scope}
	case strings.EqualFold(ch.Type, TypeExemption):
		return []string{exemptionScope(ch.ID)}
	}
	id := strings.ToLower(ch.ID)
	var out []string
	for _, c := range ps.assigned {
		if c.members[id] {
			out = append(out, c.a.Scope)
		}
	}
	return out
}

func propString(doc map[string]any, key string) (string, bool) {
	props, _ := doc["properties"].(map[string]any)
	s, ok := props[key].(string)
	return s, ok
}
