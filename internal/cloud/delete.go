package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// DeleteRequest is a delete through the pipeline.
type DeleteRequest struct {
	ID   string
	Cond Precondition
	// Action is the activity-log operation (default {type}/delete).
	Action string
}

// Delete removes a resource and everything stored below it (a resource
// group's resources, a resource's children and extension resources) in one
// transaction with the activity-log record, after the PolicyHook allowed
// it; then the DeleteHooks, the rbac view and the ComplianceHook learn of
// every removed document. found is false (and nothing happens) when the
// resource does not exist. A lock at or above the resource, or on a scope
// below it, refuses the delete (ScopeLocked); Steward's own deletes (call
// nil) are subject to neither locks nor user policy.
func (c *Cloud) Delete(ctx context.Context, call *Call, req DeleteRequest) (deleted Resource, found bool, err error) {
	existing, err := c.Get(ctx, req.ID)
	if errors.Is(err, store.ErrNotFound) {
		if strings.TrimSpace(req.Cond.IfMatch) != "" {
			return Resource{}, false, preconditionFailed()
		}
		return Resource{}, false, nil
	}
	if err != nil {
		return Resource{}, false, storeError(err)
	}
	if err := req.Cond.check(&existing); err != nil {
		return Resource{}, false, err
	}
	if err := c.checkLocks(ctx, call, OpDelete, existing.ID, existing.Type); err != nil {
		return Resource{}, false, err
	}
	if _, _, policy, _ := c.hooks(existing.Type); policy != nil && call != nil {
		pr := &PolicyRequest{Operation: OpDelete, ID: existing.ID, Type: existing.Type, Document: cloneDoc(existing.Doc)}
		if call != nil {
			pr.APIVersion, pr.Principal = call.APIVersion, call.Principal
		}
		if err := policy.BeforeWrite(ctx, pr); err != nil {
			return Resource{}, false, err
		}
	}
	action := req.Action
	if action == "" {
		action = existing.Type + "/delete"
	}
	var removed []Resource
	var gen int64
	err = c.store.Update(ctx, func(tx store.Tx) error {
		removed, gen = nil, 0
		if err := deleteResource(ctx, tx, existing, store.IfMatch(existing.ETag)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errGone
			}
			if errors.Is(err, store.ErrPrecondition) {
				return arm.Errorf(http.StatusConflict, "Conflict", "The resource was changed by a concurrent request. Retry the request.")
			}
			return err
		}
		removed = append(removed, existing)
		below, err := deleteBelow(ctx, tx, existing.ID)
		if err != nil {
			return err
		}
		removed = append(removed, below...)
		types := make([]string, 0, len(removed))
		for _, r := range removed {
			types = append(types, r.Type)
		}
		for _, r := range removed {
			if feedsRBAC(r.Type) {
				if gen, err = bumpRBACGeneration(ctx, tx); err != nil {
					return err
				}
				break
			}
		}
		if err := c.bumpGenerations(ctx, tx, types...); err != nil {
			return err
		}
		return c.recordActivity(ctx, tx, call, action, existing.ID, http.StatusOK, nil)
	})
	if errors.Is(err, errGone) {
		return Resource{}, false, nil // a concurrent delete got there first
	}
	if err != nil {
		return Resource{}, false, storeError(err)
	}
	for _, r := range removed {
		_, delHooks, _, _ := c.hooks(r.Type)
		for _, h := range delHooks {
			h(ctx, r.ID, r.Doc)
		}
		c.afterCommit(ctx, call, Change{Operation: OpDelete, ID: r.ID, Type: r.Type, Document: r.Doc, Time: c.Now()})
	}
	if gen > 0 {
		c.noteApplied(gen)
	}
	return existing, true, nil
}

// deleteBelow deletes every document whose ID is below id.
func deleteBelow(ctx context.Context, tx store.Tx, id string) ([]Resource, error) {
	var out []Resource
	q := store.Query{Prefix: resKey(id) + "/", Limit: store.MaxPageSize}
	for {
		page, err := tx.Scan(ctx, tableResources, q)
		if err != nil {
			return nil, err
		}
		for _, rec := range page.Records {
			r, err := decodeResource(rec)
			if err != nil {
				return nil, err
			}
			if err := deleteResource(ctx, tx, r, store.Cond{}); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}
