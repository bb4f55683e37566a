package insights

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// tableDigests holds one row per resource a full scan evaluated, keyed by
// its lower-case ID: a digest of every input the evaluation read (the
// resource's stored bytes, the policies in effect, its resource group's
// and subscription's documents, the management groups above it, the
// exemptions that had expired). A row exists only while the resource's
// stored states are exactly what evaluating those inputs gives, so a full
// scan that computes the same digest skips the resource without decoding
// or evaluating it (docs/decisions/compliance.md):
//
//   - every write of a resource's states that does not come with a digest
//     (the write hook, LoadStates) removes its row in the same transaction,
//     and so do the deletes of its states;
//   - the digest includes the numbers (compiled.gen) of the assignments
//     that can give the resource's type a state, each changing with every
//     change of the assignment, its definitions or its exemptions, the
//     snapshot's own number (policies.gen) for what no assignment's covers,
//     and the salt of this build and alias table (buildSalt): an
//     assignment's scan (which rewrites one assignment's states) leaves
//     rows of its types that no later scan can match unless it renews them
//     (only where the assignment was the one input that changed). The
//     numbers are drawn from the sums of the policy documents, so that a
//     restarted process, or another replica of the same build, trusts the
//     rows; rows written by another build, or under another alias table,
//     are never matched. Where a policy has no source sum, the numbers are
//     of this process, and so is the salt (processNonce);
//   - evaluations whose result depends on anything else are not given a
//     row: rules that call utcNow() (the whole snapshot then scans without
//     digests), and resources for which an auditIfNotExists,
//     deployIfNotExists or manual member took effect (related resources,
//     attestations) or an evaluation failed.
const tableDigests = "insights.digests"

// processNonce makes the digests of this process its own.
var processNonce = func() [16]byte {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return b
}()

// executable is this program's executable file, opened as the process
// starts: a file put in its place later (an upgrade before the restart)
// is another file, and buildSum digests the one running.
var executable = func() *os.File {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil
	}
	return f
}()

// buildSum is a digest of this program's executable: the evaluation code
// is the same wherever it is the same. Where the executable cannot be
// read, it is the process nonce, and digests are this process's own.
var buildSum = sync.OnceValue(func() []byte {
	if executable != nil {
		if st, err := executable.Stat(); err == nil {
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(executable, 0, st.Size())); err == nil {
				return h.Sum(nil)
			}
		}
	}
	return processNonce[:]
})

// buildSalt is what digests hold of what the evaluation is made with
// besides the policies: the build, and the alias table.
func (e *Engine) buildSalt() []byte {
	e.saltOnce.Do(func() {
		fp := e.opts.Aliases.Fingerprint()
		e.salt = append(slices.Clip(buildSum()), fp[:]...)
	})
	return e.salt
}

// policyGens numbers the volatile policies snapshots of this process.
var policyGens atomic.Uint64

// digestKey is the key of a resource's digest row: the lower-case ID, as
// the Cloud keys its resources, so both tables list in the same order.
func digestKey(id string) string { return strings.ToLower(strings.TrimRight(id, "/")) }

// digester computes the digests of one scan. Nil when the snapshot cannot
// use them.
type digester struct {
	env  *scanEnv
	ps   *policies
	base []byte
	// expired holds, per assignmentKey, whether each of its exemptions
	// had expired when the scan began.
	expired map[string][]byte
	// prev, in an assignment's scan, is the digester of the snapshot this
	// one replaced, and only the assignment's key: a resource whose row
	// holds its digest under prev, of a type for which the two snapshots
	// differ in that assignment alone, gets its row renewed.
	prev *digester
	only string

	mu    sync.Mutex
	parts map[string][]byte
	renew map[string]bool
}

// newDigester returns the digester of a scan with ps, or nil when a rule
// in effect reads the clock.
func (e *Engine) newDigester(ps *policies, env *scanEnv) *digester {
	if ps.clock {
		return nil
	}
	keys := make(map[string]bool, len(ps.assigned))
	for _, c := range ps.assigned {
		keys[assignmentKey(c.a.ID)] = true
	}
	base := make([]byte, 0, 128+len(ps.exemptions))
	if ps.volatile {
		base = append(base, processNonce[:]...)
	} else {
		base = append(base, e.buildSalt()...)
	}
	base = binary.BigEndian.AppendUint64(base, ps.gen)
	base = append(base, e.cloud.TenantID()...)
	base = append(base, 0)
	// Whether each exemption had expired when the scan began: an
	// evaluation after an expiry is digested as before it, so the next
	// scan evaluates the resource again. The exemptions of an assignment
	// count with it, the others for every resource.
	now := e.now()
	expired := map[string][]byte{}
	for _, x := range ps.exemptions {
		b := byte('0')
		if x.ExpiresOn != nil && !now.Before(*x.ExpiresOn) {
			b = '1'
		}
		if k := assignmentKey(x.PolicyAssignmentID); keys[k] {
			expired[k] = append(expired[k], b)
		} else {
			base = append(base, b)
		}
	}
	return &digester{env: env, ps: ps, base: base, expired: expired, parts: map[string][]byte{}, renew: map[string]bool{}}
}

// renewing returns the digester of an assignment's scan with ps: it
// renews the rows the scan leaves valid (nil when there is no earlier
// snapshot of this process, or either reads the clock).
func (e *Engine) renewing(ps *policies, env *scanEnv, only string) *digester {
	if ps.prev == nil {
		return nil
	}
	d, prev := e.newDigester(ps, env), e.newDigester(ps.prev, env)
	if d == nil || prev == nil {
		return nil
	}
	d.prev, d.only, prev.only = prev, only, only
	return d
}

// part is what a resource of the lower-case type typ digests of the
// assignments: the gen of each that can give it a state, with whether
// each of its exemptions had expired. An assignment that cannot give a
// resource of typ a state (types.go) changes neither its states nor this.
func (d *digester) part(typ string) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.parts[typ]; ok {
		return p
	}
	var p []byte
	for _, c := range d.ps.assigned {
		if c.types == nil || c.types[typ] {
			p = binary.BigEndian.AppendUint64(p, c.gen)
			p = append(p, d.expired[assignmentKey(c.a.ID)]...)
			p = append(p, 0)
		}
	}
	d.parts[typ] = p
	return p
}

// renews reports whether, for resources of the lower-case type typ, the
// snapshot differs from prev's in the scanned assignment alone, so that a
// resource's row written under prev, once the scan replaced the
// assignment's states from the same inputs, is true under this snapshot.
func (d *digester) renews(typ string) bool {
	if d.prev == nil {
		return false
	}
	d.mu.Lock()
	r, ok := d.renew[typ]
	d.mu.Unlock()
	if ok {
		return r
	}
	r = bytes.Equal(d.base, d.prev.base) && bytes.Equal(d.others(typ), d.prev.others(typ))
	d.mu.Lock()
	d.renew[typ] = r
	d.mu.Unlock()
	return r
}

// others is part(typ) without the scanned assignment.
func (d *digester) others(typ string) []byte {
	var p []byte
	for _, c := range d.ps.assigned {
		if k := assignmentKey(c.a.ID); k != d.only && (c.types == nil || c.types[typ]) {
			p = binary.BigEndian.AppendUint64(p, c.gen)
			p = append(p, d.expired[k]...)
			p = append(p, 0)
		}
	}
	return p
}

// sum is the digest of a stored resource under the scan's inputs.
func (d *digester) sum(ctx context.Context, r cloud.StoredResource) string {
	h := sha256.New()
	h.Write(d.base)
	writeField(h, r.Value)
	writeField(h, d.part(strings.ToLower(r.Type())))
	sub, group := resourceParts(r.Key)
	ids, _ := d.env.groups(sub)
	for _, id := range ids {
		writeField(h, []byte(id))
	}
	writeField(h, nil)
	if sub != "" {
		writeField(h, d.env.docSum(ctx, "/subscriptions/"+sub))
	}
	if group != "" {
		writeField(h, d.env.docSum(ctx, "/subscriptions/"+sub+"/resourceGroups/"+group))
	}
	if rc := d.env.requestContext(r.Type()); rc != nil {
		writeField(h, []byte(rc["apiVersion"].(string)))
	}
	var out [sha256.Size]byte
	return hex.EncodeToString(h.Sum(out[:0])[:16])
}

// writeField writes b to h with its length first, so that fields cannot
// run into each other.
func writeField(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// docSum is the digest of a stored document as the scan's evaluations
// see it (nil when absent), cached like the document.
func (s *scanEnv) docSum(ctx context.Context, id string) []byte {
	return cachedIn(&s.mu, s.sums, strings.ToLower(id), func() []byte {
		d := s.doc(ctx, id)
		if d == nil {
			return nil
		}
		enc, err := json.Marshal(d) // map keys sorted: deterministic
		if err != nil {
			enc = nil
		}
		sum := sha256.Sum256(enc)
		return append([]byte{1}, sum[:]...)
	})
}

// digestable reports whether states evaluated for a resource may be
// recorded with a digest: no member took an effect that reads other
// resources, and none failed.
func digestable(states []*State) bool {
	for _, s := range states {
		if s.State == policy.StateError {
			return false
		}
		switch strings.ToLower(s.Effect) {
		case strings.ToLower(policy.EffectAuditIfNotExists), strings.ToLower(policy.EffectDeployIfNotExists), "manual":
			return false
		}
	}
	return true
}

// readsClock reports whether an assignment's rules or parameters call
// utcNow(), whose result changes without any input changing. A value it
// cannot render counts as reading it.
func readsClock(x *policy.Assigned) bool {
	parts := []any{x.Assignment}
	if x.Policy != nil {
		parts = append(parts, x.Policy.Definition())
	}
	if x.Set != nil {
		parts = append(parts, x.Set.Set)
		for _, m := range x.Set.Members {
			if m.Policy != nil {
				parts = append(parts, m.Policy.Definition())
			}
		}
	}
	for _, p := range parts {
		b, err := json.Marshal(p)
		if err != nil || strings.Contains(strings.ToLower(string(b)), "utcnow") {
			return true
		}
	}
	return false
}

// readDigests reads the digest rows from the key lo to hi (both
// included).
func (e *Engine) readDigests(ctx context.Context, lo, hi string) (map[string]string, error) {
	out := map[string]string{}
	q := store.Query{Start: lo, End: hi + "\x01", Limit: store.MaxPageSize}
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(ctx, tableDigests, q)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			out[r.Key] = string(r.Value)
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

// digestsOf reads the digest rows of the resources recs by their keys.
func (e *Engine) digestsOf(ctx context.Context, recs []cloud.StoredResource) (map[string]string, error) {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	var rows []store.Record
	err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
		var err error
		rows, err = store.GetMany(ctx, tx, tableDigests, keys)
		return err
	})
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Key] = string(r.Value)
	}
	return out, err
}

// deleteDigests removes the digest rows of a resource and of what sits
// below it.
func deleteDigests(ctx context.Context, tx store.Tx, id string) error {
	k := digestKey(id)
	if k == "" {
		return nil
	}
	if err := store.DeleteMany(ctx, tx, tableDigests, []string{k}); err != nil {
		return err
	}
	after := ""
	for {
		page, err := store.Keys(ctx, tx, tableDigests, store.Query{Prefix: k + "/", Limit: store.MaxPageSize, After: after})
		if err != nil {
			return err
		}
		keys := make([]string, len(page.Records))
		for i, r := range page.Records {
			keys[i] = r.Key
		}
		if err := store.DeleteMany(ctx, tx, tableDigests, keys); err != nil {
			return err
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}
