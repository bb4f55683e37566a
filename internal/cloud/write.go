package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Precondition is a request's If-Match / If-None-Match.
type Precondition struct {
	IfMatch     string
	IfNoneMatch string
}

// Precondition returns the conditional headers of the call.
func (c *Call) Precondition() Precondition {
	return Precondition{IfMatch: c.HTTP.Header.Get("If-Match"), IfNoneMatch: c.HTTP.Header.Get("If-None-Match")}
}

// check tests the precondition against the stored resource (nil when
// absent), as HTTP defines If-Match and If-None-Match.
func (p Precondition) check(existing *Resource) error {
	if m := strings.TrimSpace(p.IfMatch); m != "" {
		if existing == nil || (m != "*" && !etagListHas(m, existing.ETag)) {
			return preconditionFailed()
		}
	}
	if m := strings.TrimSpace(p.IfNoneMatch); m != "" && existing != nil {
		if m == "*" || etagListHas(m, existing.ETag) {
			return preconditionFailed()
		}
	}
	return nil
}

func etagListHas(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		if unquoteETag(e) == etag {
			return true
		}
	}
	return false
}

// PutRequest is a document write through the pipeline.
type PutRequest struct {
	ID   string
	Type string
	// Doc is the complete document to store (id, name, type, ...). The
	// pipeline adds systemData.
	Doc map[string]any
	// Cond is the client's precondition.
	Cond Precondition
	// Build, when set, is called with the stored resource (nil when
	// absent) to produce Doc, such as a PATCH merging into it. It may
	// return an *arm.Error.
	Build func(existing *Resource) (map[string]any, error)
}

// Put writes a resource through the pipeline: management locks,
// precondition, the type's PutHooks, the PolicyHook, then one transaction
// storing the document with its activity-log record, then the rbac view
// and the ComplianceHook. It reports whether the resource was created.
// call is nil for writes Steward makes on its own behalf (the platform
// resources at start): like Azure's platform writes they are subject to
// neither user policy nor locks.
func (c *Cloud) Put(ctx context.Context, call *Call, req PutRequest) (Resource, bool, error) {
	if err := c.checkLocks(ctx, call, OpWrite, req.ID, req.Type); err != nil {
		return Resource{}, false, err
	}
	for attempt := 0; ; attempt++ {
		r, created, err := c.putOnce(ctx, call, req)
		if errors.Is(err, errRaced) && attempt < maxPutAttempts {
			// Another write of the same resource committed between our read
			// and our write: read again, after a short pause that spreads
			// the contenders out.
			select {
			case <-ctx.Done():
				return Resource{}, false, ctx.Err()
			case <-time.After(time.Duration(attempt+1) * time.Millisecond):
			}
			continue
		}
		if errors.Is(err, errRaced) {
			err = storeError(store.ErrConflict)
		}
		return r, created, err
	}
}

// maxPutAttempts bounds the optimistic retries of a contended write.
const maxPutAttempts = 20

// errGone: the resource was deleted between the read and the delete.
var errGone = errors.New("cloud: deleted concurrently")

// errRaced: the resource changed between the read and the write.
var errRaced = errors.New("cloud: concurrent write")

func (c *Cloud) putOnce(ctx context.Context, call *Call, req PutRequest) (Resource, bool, error) {
	if len(req.ID) > maxIDLen {
		return Resource{}, false, badURI(req.ID)
	}
	var existing *Resource
	switch r, err := c.Get(ctx, req.ID); {
	case err == nil:
		existing = &r
	case !errors.Is(err, store.ErrNotFound):
		return Resource{}, false, storeError(err)
	}
	if err := req.Cond.check(existing); err != nil {
		return Resource{}, false, err
	}
	doc := req.Doc
	if req.Build != nil {
		var err error
		if doc, err = req.Build(existing); err != nil {
			return Resource{}, false, err
		}
	}
	var prev map[string]any
	if existing != nil {
		prev = existing.Doc
	}
	putHooks, _, policy, _ := c.hooks(req.Type)
	for _, h := range putHooks {
		if err := h(ctx, req.ID, doc, cloneDoc(prev)); err != nil {
			return Resource{}, false, err
		}
	}
	if policy != nil && call != nil {
		pr := &PolicyRequest{Operation: OpWrite, ID: req.ID, Type: req.Type, Document: doc, Existing: cloneDoc(prev)}
		if call != nil {
			pr.APIVersion, pr.Principal = call.APIVersion, call.Principal
		}
		if err := policy.BeforeWrite(ctx, pr); err != nil {
			return Resource{}, false, err
		}
		doc = pr.Document
	}
	c.stampSystemData(doc, prev, call)
	cond := store.IfAbsent()
	if existing != nil {
		cond = store.IfMatch(existing.ETag)
	}
	var out Resource
	var gen int64
	err := c.store.Update(ctx, func(tx store.Tx) error {
		var err error
		out, err = putResource(ctx, tx, Resource{ID: req.ID, Type: req.Type, Doc: doc}, cond)
		if errors.Is(err, store.ErrPrecondition) || errors.Is(err, store.ErrExists) {
			return errRaced
		}
		if err != nil {
			return err
		}
		if feedsRBAC(req.Type) {
			if gen, err = bumpRBACGeneration(ctx, tx); err != nil {
				return err
			}
		}
		if err := c.bumpGenerations(ctx, tx, req.Type); err != nil {
			return err
		}
		return c.recordActivity(ctx, tx, call, req.Type+"/write", req.ID, http.StatusOK, nil)
	})
	if err != nil {
		if errors.Is(err, errRaced) {
			return Resource{}, false, err
		}
		return Resource{}, false, storeError(err)
	}
	ch := Change{Operation: OpWrite, ID: out.ID, Type: out.Type, Document: out.Doc, Previous: prev, Time: out.Updated}
	c.afterCommit(ctx, call, ch)
	if gen > 0 {
		c.noteApplied(gen)
	}
	return out, existing == nil, nil
}

// afterCommit brings the in-memory views up to date and tells the
// compliance hook.
func (c *Cloud) afterCommit(ctx context.Context, call *Call, ch Change) {
	if call != nil {
		ch.CorrelationID = call.CorrelationID
	}
	c.applyRBAC(ctx, ch)
	if _, _, _, comp := c.hooks(ch.Type); comp != nil {
		comp.AfterCommit(ctx, ch)
	}
}

// stampSystemData sets systemData: creation from the previous document,
// last modification now by the caller.
func (c *Cloud) stampSystemData(doc, prev map[string]any, call *Call) {
	by, byType := "Steward", "Application"
	if call != nil {
		by = caller(call.Principal)
		if call.Principal.IdentityType == "user" {
			byType = "User"
		}
	}
	now := c.Now().Format(timeFormat)
	sd := map[string]any{"createdBy": by, "createdByType": byType, "createdAt": now}
	if p, ok := prev["systemData"].(map[string]any); ok {
		for _, k := range []string{"createdBy", "createdByType", "createdAt"} {
			if v, ok := p[k]; ok {
				sd[k] = v
			}
		}
	}
	sd["lastModifiedBy"], sd["lastModifiedByType"], sd["lastModifiedAt"] = by, byType, now
	doc["systemData"] = sd
}

// timeFormat is how ARM writes timestamps.
const timeFormat = "2006-01-02T15:04:05.0000000Z"

// cloneDoc deep-copies a document so hooks cannot change the stored one.
func cloneDoc(d map[string]any) map[string]any {
	if d == nil {
		return nil
	}
	return cloneValue(d).(map[string]any)
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = cloneValue(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = cloneValue(x)
		}
		return s
	}
	return v
}
