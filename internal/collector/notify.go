package collector

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// maxNotification bounds a notification body; Azure's are under 2 KiB.
const maxNotification = 64 << 10

// Notification is a managed application lifecycle notification, as Azure
// (service catalog or Marketplace) POSTs it to the definition's
// notification endpoint + "/resource".
type Notification struct {
	EventType               string    `json:"eventType"`
	ApplicationID           string    `json:"applicationId"`
	EventTime               time.Time `json:"eventTime"`
	ProvisioningState       string    `json:"provisioningState"`
	ApplicationDefinitionID string    `json:"applicationDefinitionId,omitempty"`
	BillingDetails          *struct {
		ResourceUsageID string `json:"resourceUsageId"`
	} `json:"billingDetails,omitempty"`
	Plan *struct {
		Publisher string `json:"publisher"`
		Product   string `json:"product"`
		Name      string `json:"name"`
		Version   string `json:"version"`
	} `json:"plan,omitempty"`
	Error json.RawMessage `json:"error,omitempty"`
}

var eventStates = map[string][]string{
	"PUT":    {StateAccepted, StateSucceeded, StateFailed},
	"PATCH":  {StateSucceeded},
	"DELETE": {StateDeleting, StateDeleted, StateFailed},
}

// Notifications is the notification endpoint: it checks the shared sig
// query parameter, confirms the event with a GET on the application, and
// records what the GET returned in the inventory. It is idempotent, so
// Azure's retries (for ten hours after a 5xx, a 429 or no answer) are
// harmless; it answers 200 only after the inventory write.
type Notifications struct {
	// Sig is the shared secret the endpoint URL carries as ?sig=. It must
	// not be empty.
	Sig       string
	Apps      *Applications
	Inventory Inventory
	Now       func() time.Time
	Log       *slog.Logger
}

// Outcome is the JSON answer of the endpoint.
type Outcome struct {
	ApplicationID     string `json:"applicationId"`
	Action            string `json:"action"`
	ProvisioningState string `json:"provisioningState,omitempty"`
}

func (n *Notifications) now() time.Time {
	if n.Now != nil {
		return n.Now().UTC()
	}
	return time.Now().UTC()
}

// ServeHTTP implements http.Handler.
func (n *Notifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		arm.WriteError(w, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The notification endpoint accepts POST only."))
		return
	}
	got := r.URL.Query().Get("sig")
	if n.Sig == "" || subtle.ConstantTimeCompare([]byte(got), []byte(n.Sig)) != 1 {
		arm.WriteError(w, arm.Errorf(http.StatusUnauthorized, "InvalidSignature", "The 'sig' query parameter is missing or does not match the endpoint's."))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotification+1))
	if err != nil {
		arm.WriteError(w, arm.BadRequest("InvalidRequestContent", "The notification body could not be read."))
		return
	}
	if len(body) > maxNotification {
		arm.WriteError(w, arm.Errorf(http.StatusRequestEntityTooLarge, "RequestTooLarge", "The notification body exceeds %d bytes.", maxNotification))
		return
	}
	var ev Notification
	if err := json.Unmarshal(body, &ev); err != nil {
		arm.WriteError(w, arm.BadRequest("InvalidRequestContent", "The notification is not valid JSON: %v", err))
		return
	}
	if err := ev.validate(); err != nil {
		arm.WriteError(w, err)
		return
	}
	out, err := n.Handle(r.Context(), ev)
	if err != nil {
		if n.Log != nil {
			n.Log.Error("collector: notification", "applicationId", ev.ApplicationID, "eventType", ev.EventType, "err", err)
		}
		arm.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}

func (ev *Notification) validate() error {
	ev.EventType = strings.ToUpper(strings.TrimSpace(ev.EventType))
	states, ok := eventStates[ev.EventType]
	if !ok {
		return arm.BadRequest("InvalidEventType", "eventType must be PUT, PATCH or DELETE, not '%s'.", ev.EventType)
	}
	known := false
	for _, s := range states {
		if strings.EqualFold(s, ev.ProvisioningState) {
			ev.ProvisioningState, known = s, true
		}
	}
	if !known {
		return arm.BadRequest("InvalidProvisioningState", "provisioningState '%s' is not one a %s notification carries (%s).",
			ev.ProvisioningState, ev.EventType, strings.Join(states, ", "))
	}
	if _, _, _, err := ParseApplicationID(ev.ApplicationID); err != nil {
		return arm.BadRequest("InvalidApplicationId", "%v", err)
	}
	return nil
}

// Handle processes a validated notification.
func (n *Notifications) Handle(ctx context.Context, ev Notification) (Outcome, error) {
	sub, rg, name, err := ParseApplicationID(ev.ApplicationID)
	if err != nil {
		return Outcome{}, arm.BadRequest("InvalidApplicationId", "%v", err)
	}
	key := Deployment{SubscriptionID: sub, ResourceGroup: rg, Name: name}
	pk, rk := key.Key()
	prev, err := n.Inventory.Get(ctx, pk, rk)
	if err != nil && !errors.Is(err, ErrNoDeployment) {
		return Outcome{}, unavailable("the inventory", err)
	}
	if !ev.EventTime.IsZero() && !prev.LastEventTime.IsZero() && ev.EventTime.Before(prev.LastEventTime) {
		// An older event retried after a newer one: already superseded.
		return Outcome{ApplicationID: prev.ApplicationID, Action: "ignored-stale", ProvisioningState: prev.ProvisioningState}, nil
	}
	app, err := n.Apps.Get(ctx, "/subscriptions/"+sub+"/resourceGroups/"+rg+"/providers/Microsoft.Solutions/applications/"+name)
	if errors.Is(err, ErrApplicationNotFound) || errors.Is(err, ErrApplicationNotVisible) {
		if ev.EventType == "DELETE" {
			if err := n.Inventory.Delete(ctx, pk, rk); err != nil {
				return Outcome{}, unavailable("the inventory", err)
			}
			return Outcome{ApplicationID: ev.ApplicationID, Action: "removed", ProvisioningState: StateDeleted}, nil
		}
		if errors.Is(err, ErrApplicationNotVisible) {
			// The definition does not authorize the collector's principal
			// (or no longer does): the deployment is recorded as
			// Inaccessible, so it is reported, never collected, and never
			// read with other rights.
			return n.recordInaccessible(ctx, ev, prev, sub, rg, name)
		}
		// Azure retries a 404, which covers a GET racing the application's
		// creation; a forged event is dropped after Azure's ten hours.
		return Outcome{}, arm.NotFound("ResourceNotFound", "The application '%s' was not found; the notification cannot be confirmed.", ev.ApplicationID)
	}
	if err != nil {
		return Outcome{}, unavailable("Azure Resource Manager", err)
	}
	d, err := describe(app)
	if err != nil {
		return Outcome{}, unavailable("Azure Resource Manager", err)
	}
	d.TenantID = prev.TenantID
	if d.TenantID == "" {
		d.TenantID = n.Apps.TenantOf(ctx, d.SubscriptionID)
	}
	if d.PlanName == "" && ev.Plan != nil {
		d.PlanName, d.PlanProduct, d.PlanPublisher, d.PlanVersion = ev.Plan.Name, ev.Plan.Product, ev.Plan.Publisher, ev.Plan.Version
	}
	if d.ResourceUsageID == "" && ev.BillingDetails != nil {
		d.ResourceUsageID = ev.BillingDetails.ResourceUsageID
	}
	if d.PlanName == "" {
		d.PlanName, d.PlanProduct, d.PlanPublisher, d.PlanVersion = prev.PlanName, prev.PlanProduct, prev.PlanPublisher, prev.PlanVersion
	}
	d.LastEventType, d.LastEventTime, d.LastSeen = ev.EventType, ev.EventTime, n.now()
	if d.LastEventTime.IsZero() {
		d.LastEventTime = d.LastSeen
	}
	if err := n.Inventory.Put(ctx, d); err != nil {
		return Outcome{}, unavailable("the inventory", err)
	}
	return Outcome{ApplicationID: d.ApplicationID, Action: "recorded", ProvisioningState: d.ProvisioningState}, nil
}

// recordInaccessible records a deployment whose application the
// collector's principal may not read. What is known of it comes from the
// event and an earlier record; the state is Inaccessible whatever the
// event claims, since the GET could not confirm it.
func (n *Notifications) recordInaccessible(ctx context.Context, ev Notification, prev Deployment, sub, rg, name string) (Outcome, error) {
	d := prev
	if d.ApplicationID == "" {
		d = Deployment{ApplicationID: "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Solutions/applications/" + name,
			SubscriptionID: sub, ResourceGroup: rg, Name: name}
	}
	if d.PlanName == "" && ev.Plan != nil {
		d.PlanName, d.PlanProduct, d.PlanPublisher, d.PlanVersion = ev.Plan.Name, ev.Plan.Product, ev.Plan.Publisher, ev.Plan.Version
	}
	if d.ResourceUsageID == "" && ev.BillingDetails != nil {
		d.ResourceUsageID = ev.BillingDetails.ResourceUsageID
	}
	d.ProvisioningState = StateInaccessible
	d.LastEventType, d.LastEventTime, d.LastSeen = ev.EventType, ev.EventTime, n.now()
	if d.LastEventTime.IsZero() {
		d.LastEventTime = d.LastSeen
	}
	if err := n.Inventory.Put(ctx, d); err != nil {
		return Outcome{}, unavailable("the inventory", err)
	}
	if n.Log != nil {
		n.Log.Warn("collector: application not readable by the collector's principal; recorded as Inaccessible",
			"applicationId", d.ApplicationID, "eventType", ev.EventType)
	}
	return Outcome{ApplicationID: d.ApplicationID, Action: "recorded", ProvisioningState: StateInaccessible}, nil
}

// unavailable is the 503 of a dependency that failed: Azure retries it.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w (%v)", arm.Errorf(http.StatusServiceUnavailable, "DependencyUnavailable", "%s could not be reached; retry later.", what), err)
}
