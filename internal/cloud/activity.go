package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// Value is ARM's {value, localizedValue} pair.
type Value struct {
	Value          string `json:"value"`
	LocalizedValue string `json:"localizedValue"`
}

// ActivityEvent is an activity-log record in the shape of
// Microsoft.Insights/eventtypes/management/values.
type ActivityEvent struct {
	Authorization        *ActivityAuthorization `json:"authorization,omitempty"`
	Caller               string                 `json:"caller"`
	Channels             string                 `json:"channels"`
	Claims               map[string]string      `json:"claims,omitempty"`
	CorrelationID        string                 `json:"correlationId"`
	Description          string                 `json:"description"`
	EventDataID          string                 `json:"eventDataId"`
	EventName            Value                  `json:"eventName"`
	Category             Value                  `json:"category"`
	HTTPRequest          *ActivityHTTPRequest   `json:"httpRequest,omitempty"`
	ID                   string                 `json:"id"`
	Level                string                 `json:"level"`
	ResourceGroupName    string                 `json:"resourceGroupName,omitempty"`
	ResourceProviderName Value                  `json:"resourceProviderName"`
	ResourceID           string                 `json:"resourceId"`
	ResourceType         Value                  `json:"resourceType"`
	OperationID          string                 `json:"operationId"`
	OperationName        Value                  `json:"operationName"`
	Properties           map[string]string      `json:"properties,omitempty"`
	Status               Value                  `json:"status"`
	SubStatus            Value                  `json:"subStatus"`
	EventTimestamp       string                 `json:"eventTimestamp"`
	SubmissionTimestamp  string                 `json:"submissionTimestamp"`
	SubscriptionID       string                 `json:"subscriptionId,omitempty"`
	TenantID             string                 `json:"tenantId"`
}

// ActivityAuthorization is the action and scope the request was authorized
// for.
type ActivityAuthorization struct {
	Action string `json:"action"`
	Scope  string `json:"scope"`
}

// ActivityHTTPRequest describes the request that caused the event.
type ActivityHTTPRequest struct {
	ClientRequestID string `json:"clientRequestId,omitempty"`
	ClientIPAddress string `json:"clientIpAddress,omitempty"`
	Method          string `json:"method"`
}

// activityKey orders events by subscription (or "tenant") and time.
func activityKey(sub, ts, id string) string { return activityPrefix(sub) + ts + "|" + id }

func activityPrefix(sub string) string {
	if sub == "" {
		sub = "tenant"
	}
	return strings.ToLower(sub) + "|"
}

// recordActivity writes the activity-log record of a write: a successful
// one in the transaction that makes it (failure nil), a refused one in a
// transaction of its own.
func (c *Cloud) recordActivity(ctx context.Context, tx store.Tx, call *Call, action, resourceID string, status int, failure *arm.Error) error {
	now := c.Now()
	ev := ActivityEvent{
		Caller: "Steward", Channels: "Operation", Level: "Informational",
		EventDataID:    c.newID(),
		EventName:      Value{"EndRequest", "End request"},
		Category:       Value{"Administrative", "Administrative"},
		ResourceID:     resourceID,
		OperationName:  Value{action, action},
		Status:         Value{"Succeeded", "Succeeded"},
		SubStatus:      Value{http.StatusText(status), http.StatusText(status)},
		EventTimestamp: now.Format(timeFormat), SubmissionTimestamp: now.Format(timeFormat),
		TenantID:      c.opts.TenantID,
		Authorization: &ActivityAuthorization{Action: action, Scope: resourceID},
	}
	if r, err := arm.ParseResourceID(resourceID); err == nil {
		ev.SubscriptionID, ev.ResourceGroupName = r.SubscriptionID, r.ResourceGroup
		ns := r.Namespace
		if ns == "" {
			ns, _, _ = strings.Cut(r.ResourceType(), "/")
		}
		ev.ResourceProviderName = Value{ns, ns}
		ev.ResourceType = Value{r.ResourceType(), r.ResourceType()}
	}
	ev.OperationID = ev.EventDataID
	if call != nil {
		ev.Caller = caller(call.Principal)
		ev.CorrelationID = call.CorrelationID
		ev.OperationID = call.CorrelationID
		ev.Claims = map[string]string{"oid": call.Principal.ObjectID, "tid": call.Principal.TenantID, "appid": call.Principal.AppID}
		ev.HTTPRequest = &ActivityHTTPRequest{ClientRequestID: call.HTTP.Header.Get("x-ms-client-request-id"),
			ClientIPAddress: clientIP(call.HTTP), Method: call.Method}
	}
	if failure != nil {
		ev.Status = Value{"Failed", "Failed"}
		env, _ := json.Marshal(map[string]any{"error": failure})
		ev.Properties = map[string]string{"statusCode": strings.ReplaceAll(http.StatusText(status), " ", ""), "statusMessage": string(env)}
	}
	ev.ID = fmt.Sprintf("%s/events/%s/ticks/%d", resourceID, ev.EventDataID, now.UnixNano()/100)
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = tx.Put(ctx, tableActivity, activityKey(ev.SubscriptionID, now.Format(activityKeyTime), ev.EventDataID), b, store.Cond{})
	return err
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// ActivityLog returns one page of the activity-log records of a
// subscription ("" for tenant-level events) in time order, and the token of
// the next page.
func (c *Cloud) ActivityLog(ctx context.Context, subscriptionID string, limit int, after string) ([]ActivityEvent, string, error) {
	return c.QueryActivity(ctx, ActivityQuery{SubscriptionID: subscriptionID, Limit: limit, After: after})
}

// recordFailure logs a write the pipeline refused (authorization, policy,
// validation), as ARM's activity log shows failed operations. Throttled
// requests are not logged, so that a flood cannot fill the log.
func (c *Cloud) recordFailure(ctx context.Context, call *Call, err error) {
	ae := arm.AsError(err)
	if call.Method == http.MethodGet || call.Method == http.MethodHead || ae.Status == http.StatusTooManyRequests {
		return
	}
	id := call.Target.ID
	if id == "" {
		id = call.Target.Scope
	}
	action := defaultAction(call.Method, call.Target)
	if werr := c.store.Update(ctx, func(tx store.Tx) error {
		return c.recordActivity(ctx, tx, call, action, id, ae.Status, ae)
	}); werr != nil {
		c.log.Error("activity log: recording a failed request", "err", werr)
	}
}
