package insights

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/store"
)

// DefaultRetryAfter is the Retry-After, in seconds, of a triggerEvaluation
// and of its polls while the scan runs. Azure's example answers 30;
// Steward's scans are quicker, so clients are asked back sooner.
const DefaultRetryAfter = 5

// serveTrigger answers POST .../policyStates/latest/triggerEvaluation at a
// subscription or resource group: the scan is queued and the answer is 202
// with a Location to poll.
func (e *Engine) serveTrigger(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if call.Method != http.MethodPost {
		return nil, notSupportedMethod(call.Method, "triggerEvaluation")
	}
	if !strings.EqualFold(call.Target.Name, "latest") {
		return nil, arm.BadRequest("InvalidPolicyStatesResource", "Evaluations are triggered on policyStates/latest.")
	}
	t, err := resolveTarget(call)
	if err != nil {
		return nil, err
	}
	if k := t.parsed.Kind(); (k != arm.ScopeSubscription && k != arm.ScopeResourceGroup) || t.parsed.Parent != nil {
		_ = call.Authorize(ctx, "Microsoft.PolicyInsights/policyStates/triggerEvaluation/action", t.access)
		return nil, arm.BadRequest("InvalidRequestUri", "Evaluations are triggered at a subscription or a resource group.")
	}
	if err := call.Authorize(ctx, "Microsoft.PolicyInsights/policyStates/triggerEvaluation/action", t.access); err != nil {
		return nil, err
	}
	if err := e.cloud.RequireScope(ctx, t.parsed); err != nil {
		return nil, err
	}
	id := e.opts.NewID()
	if err := e.Enqueue(ctx, t.scope, id); err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusAccepted, Header: e.pollHeaders(call, t.parsed.SubscriptionID, id)}, nil
}

func (e *Engine) pollHeaders(call *cloud.Call, sub, id string) http.Header {
	h := http.Header{}
	h.Set("Location", call.BaseURL()+"/subscriptions/"+sub+"/providers/Microsoft.PolicyInsights/asyncOperationResults/"+id+
		"?api-version="+call.APIVersion)
	h.Set("Retry-After", strconv.Itoa(e.retryAfter()))
	return h
}

func (e *Engine) retryAfter() int {
	if e.opts.RetryAfter > 0 {
		return e.opts.RetryAfter
	}
	return DefaultRetryAfter
}

// serveOperation answers the poll of a triggerEvaluation: 202 while the
// scan is queued or running, then 200 {"status": "Succeeded"}.
func (e *Engine) serveOperation(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if t.Collection || t.Resource == nil || t.Resource.Kind() == arm.ScopeRoot {
		_ = call.Authorize(ctx, "Microsoft.PolicyInsights/asyncOperationResults/read", t.AccessScope())
		return nil, arm.NotFound("OperationNotFound", "The operation was not found.")
	}
	sub := t.Resource.SubscriptionID
	if err := call.Authorize(ctx, "Microsoft.PolicyInsights/asyncOperationResults/read", "/subscriptions/"+sub); err != nil {
		return nil, err
	}
	if call.Method != http.MethodGet {
		return nil, notSupportedMethod(call.Method, "asyncOperationResults")
	}
	op, err := e.GetOperation(ctx, t.Name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) ||
		(err == nil && !strings.EqualFold(subscriptionOfScope(op.Scope), sub)) {
		return nil, arm.NotFound("OperationNotFound", "The operation '%s' was not found.", truncate(t.Name, 60))
	}
	if err != nil {
		return nil, err
	}
	switch op.Status {
	case "Succeeded":
		return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"status": "Succeeded"}}, nil
	case "Failed":
		return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"status": "Failed",
			"properties": map[string]any{"provisioningState": "Failed"},
			"error":      map[string]any{"code": "EvaluationFailed", "message": op.Error}}}, nil
	}
	return &cloud.Response{Status: http.StatusAccepted, Header: e.pollHeaders(call, sub, op.ID)}, nil
}

func subscriptionOfScope(scope string) string {
	sub, _ := resourceParts(scope)
	return sub
}
