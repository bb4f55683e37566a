package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/steward-gov/steward/internal/store"
)

// Deployment history lives in its own tables, not among resources:
// deployments are not listed with a group's resources, evaluated by policy
// or deleted by a Complete-mode deployment. A record is keyed
// "{scope}|{name}" (lower case) so a prefix scan lists one scope's
// history; operations are keyed "{scope}|{name}|{operationId}".
const (
	tableDeployments   = "cloud.deployments"
	tableDeploymentOps = "cloud.deploymentops"
)

// deploymentRecord is a stored deployment: the document the API returns,
// the template it ran (for exportTemplate), the ID of its asynchronous
// operation and who started it.
type deploymentRecord struct {
	Doc         map[string]any `json:"doc"`
	Template    map[string]any `json:"template,omitempty"`
	OperationID string         `json:"operationId"`
	Principal   string         `json:"principal"`
	// CancelRequested is set by a cancel while the deployment is Accepted
	// or Running; the worker running it stops before its next write.
	CancelRequested bool `json:"cancelRequested,omitempty"`
}

// state is the deployment's provisioningState.
func (r *deploymentRecord) state() string {
	props, _ := r.Doc["properties"].(map[string]any)
	s, _ := props["provisioningState"].(string)
	return s
}

// inProgress says whether a provisioningState is not terminal.
func inProgress(state string) bool { return state == "Accepted" || state == "Running" }

func deploymentKey(scope, name string) string {
	return strings.ToLower(strings.TrimRight(scope, "/")) + "|" + strings.ToLower(name)
}

func (c *Cloud) getDeployment(ctx context.Context, scope, name string) (*deploymentRecord, error) {
	var rec deploymentRecord
	err := c.store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, tableDeployments, deploymentKey(scope, name))
		if err != nil {
			return err
		}
		return json.Unmarshal(r.Value, &rec)
	})
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// putDeployment stores a deployment with its operations; activity, when
// set, records the deployment's write in the activity log in the same
// transaction.
func (c *Cloud) putDeployment(ctx context.Context, scope, name string, rec *deploymentRecord, ops []map[string]any, activity func(tx store.Tx) error) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return c.store.Update(ctx, func(tx store.Tx) error {
		if activity != nil {
			if err := activity(tx); err != nil {
				return err
			}
		}
		key := deploymentKey(scope, name)
		if _, err := tx.Put(ctx, tableDeployments, key, b, store.Cond{}); err != nil {
			return err
		}
		if err := deleteOps(ctx, tx, key); err != nil {
			return err
		}
		for _, op := range ops {
			ob, err := json.Marshal(op)
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, tableDeploymentOps, key+"|"+strings.ToLower(op["operationId"].(string)), ob, store.Cond{}); err != nil {
				return err
			}
		}
		return nil
	})
}

func deleteOps(ctx context.Context, tx store.Tx, key string) error {
	for {
		page, err := tx.Scan(ctx, tableDeploymentOps, store.Query{Prefix: key + "|", KeysOnly: true, Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		if len(page.Records) == 0 {
			return nil
		}
		for _, r := range page.Records {
			if err := tx.Delete(ctx, tableDeploymentOps, r.Key, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
}

func (c *Cloud) deleteDeployment(ctx context.Context, scope, name string) (bool, error) {
	found := true
	err := c.store.Update(ctx, func(tx store.Tx) error {
		key := deploymentKey(scope, name)
		if err := tx.Delete(ctx, tableDeployments, key, store.Cond{}); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				found = false
				return nil
			}
			return err
		}
		return deleteOps(ctx, tx, key)
	})
	return found, err
}

// listDeployments lists a scope's history, one page.
func (c *Cloud) listDeployments(ctx context.Context, scope string, limit int, after string) ([]map[string]any, string, error) {
	var out []map[string]any
	var next string
	err := c.store.View(ctx, func(tx store.Tx) error {
		page, err := tx.Scan(ctx, tableDeployments, store.Query{Prefix: strings.ToLower(strings.TrimRight(scope, "/")) + "|", Limit: limit, After: after})
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			var rec deploymentRecord
			if err := json.Unmarshal(r.Value, &rec); err != nil {
				return err
			}
			out = append(out, rec.Doc)
		}
		next = page.Next
		return nil
	})
	return out, next, err
}

// listOperations lists a deployment's operations, or one of them.
func (c *Cloud) listOperations(ctx context.Context, scope, name, opID string) ([]map[string]any, error) {
	var out []map[string]any
	err := c.store.View(ctx, func(tx store.Tx) error {
		key := deploymentKey(scope, name) + "|"
		if opID != "" {
			r, err := tx.Get(ctx, tableDeploymentOps, key+strings.ToLower(opID))
			if err != nil {
				return err
			}
			var op map[string]any
			if err := json.Unmarshal(r.Value, &op); err != nil {
				return err
			}
			out = append(out, op)
			return nil
		}
		after := ""
		for {
			page, err := tx.Scan(ctx, tableDeploymentOps, store.Query{Prefix: key, Limit: store.MaxPageSize, After: after})
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				var op map[string]any
				if err := json.Unmarshal(r.Value, &op); err != nil {
					return err
				}
				out = append(out, op)
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	return out, err
}

// updateDeployment rewrites a stored deployment's record with fn, in one
// transaction, so that what another writer set meanwhile (a cancel
// request) is kept. fn returns false to leave the record as it is;
// activity, when set, runs in the same transaction.
func (c *Cloud) updateDeployment(ctx context.Context, scope, name string, fn func(rec *deploymentRecord) bool, activity func(tx store.Tx) error) (*deploymentRecord, error) {
	var out *deploymentRecord
	err := c.store.Update(ctx, func(tx store.Tx) error {
		key := deploymentKey(scope, name)
		r, err := tx.Get(ctx, tableDeployments, key)
		if err != nil {
			return err
		}
		var rec deploymentRecord
		if err := json.Unmarshal(r.Value, &rec); err != nil {
			return err
		}
		out = &rec
		if !fn(&rec) {
			return nil
		}
		b, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		if activity != nil {
			if err := activity(tx); err != nil {
				return err
			}
		}
		_, err = tx.Put(ctx, tableDeployments, key, b, store.IfMatch(r.ETag))
		return err
	})
	return out, err
}

// putDeploymentOp stores one operation of a running deployment, so that
// the operations list shows its progress.
func (c *Cloud) putDeploymentOp(ctx context.Context, scope, name string, op map[string]any) error {
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	return c.store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableDeploymentOps, deploymentKey(scope, name)+"|"+strings.ToLower(op["operationId"].(string)), b, store.Cond{})
		return err
	})
}
