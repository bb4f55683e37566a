package storageaccounts

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/store"
)

// tableOperations maps an asynchronous operation to the account it
// created.
const tableOperations = "storage.operations"

// create runs the PUT through the generic pipeline; a new account is
// answered 202 Accepted with a Location to poll (the operation has
// completed by then, so the first poll answers 200 with the account), an
// existing one 200 with its document, as the Storage provider does.
func (p *Provider) create(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	resp, err := p.c.ServeGeneric(ctx, call)
	if err != nil || resp.Status != http.StatusCreated {
		return resp, err
	}
	op := uuid.NewString()
	id := call.Target.ID
	if err := p.c.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableOperations, op, []byte(id), store.Cond{})
		return err
	}); err != nil {
		return nil, err
	}
	loc := "local"
	if doc, ok := resp.Body.(map[string]any); ok {
		if l, ok := doc["location"].(string); ok && l != "" {
			loc = cloud.NormalizeLocation(l)
		}
	}
	sub := call.Target.Resource.SubscriptionID
	h := http.Header{}
	h.Set("Location", call.BaseURL()+"/subscriptions/"+sub+"/providers/Microsoft.Storage/locations/"+url.PathEscape(loc)+
		"/asyncoperations/"+op+"?monitor=true&api-version="+url.QueryEscape(call.APIVersion))
	h.Set("Retry-After", "1")
	return &cloud.Response{Status: http.StatusAccepted, Header: h}, nil
}

// pollOperation answers the Location of a create: 200 with the account.
func (p *Provider) pollOperation(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if call.Method != http.MethodGet {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET.")
	}
	var id string
	err := p.c.Store().View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableOperations, strings.ToLower(call.Target.Name))
		if err != nil {
			return err
		}
		id = string(rec.Value)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound("OperationNotFound", "The operation '%s' was not found.", call.Target.Name)
	}
	if err != nil {
		return nil, err
	}
	r, err := p.c.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound("ResourceNotFound", "The storage account of operation '%s' no longer exists.", call.Target.Name)
	}
	if err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: r.Doc}, nil
}
