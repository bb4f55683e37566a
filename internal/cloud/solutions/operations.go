package solutions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/store"
)

// tableOperations holds the asynchronous operations of PUT and DELETE,
// by lower-case operation ID.
const tableOperations = "solutions.operations"

// operation is an asynchronous operation as its Azure-AsyncOperation URL
// answers it.
type operation struct {
	ID        string     `json:"name"`
	Resource  string     `json:"resourceId"`
	Status    string     `json:"status"`
	StartTime time.Time  `json:"startTime"`
	EndTime   time.Time  `json:"endTime"`
	Error     *arm.Error `json:"error,omitempty"`
}

func (p *Provider) startOperation() *operation {
	return &operation{ID: uuid.NewString(), StartTime: p.c.Now()}
}

// endOperation stores the outcome of an operation.
func (p *Provider) endOperation(ctx context.Context, op *operation, resource, status string, failure error) error {
	op.Resource, op.Status, op.EndTime = resource, status, p.c.Now()
	if failure != nil {
		ae := arm.AsError(failure)
		c := *ae
		c.Status = 0
		op.Error = &c
	}
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	return p.c.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableOperations, strings.ToLower(op.ID), b, store.Cond{})
		return err
	})
}

func (p *Provider) operationURL(call *cloud.Call, appID, op string) string {
	return call.BaseURL() + appID + "/operationStatuses/" + op + "?api-version=" + url.QueryEscape(call.APIVersion)
}

// serveOperation answers an Azure-AsyncOperation URL.
func (p *Provider) serveOperation(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if call.Method != http.MethodGet {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET.")
	}
	var op operation
	err := p.c.Store().View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableOperations, strings.ToLower(call.Target.Name))
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &op)
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !arm.EqualIDs(op.Resource, call.Target.Resource.ParentScope().String())) {
		return nil, arm.NotFound("OperationNotFound", "The operation '%s' was not found.", call.Target.Name)
	}
	if err != nil {
		return nil, err
	}
	body := map[string]any{"id": call.Target.ID, "name": op.ID, "status": op.Status,
		"startTime": op.StartTime.Format(time.RFC3339Nano), "endTime": op.EndTime.Format(time.RFC3339Nano)}
	if op.Error != nil {
		body["error"] = op.Error
	}
	return &cloud.Response{Status: http.StatusOK, Body: body}, nil
}
