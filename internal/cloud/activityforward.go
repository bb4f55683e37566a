package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// TypeDiagnosticSettings is the type of diagnostic settings. At
// subscription scope ({subscription}/providers/Microsoft.Insights/
// diagnosticSettings/{name}) they send the subscription's activity log to
// a Log Analytics workspace, which is the part Steward implements.
const TypeDiagnosticSettings = "Microsoft.Insights/diagnosticSettings"

// ActivityLogCategories are the categories of the activity log a
// subscription's diagnostic setting may name, as Azure lists them.
var ActivityLogCategories = []string{"Administrative", "Security", "ServiceHealth", "Alert",
	"Recommendation", "Policy", "Autoscale", "ResourceHealth"}

// tableActivityForward keeps, per subscription diagnostic setting, the
// key of the last activity event forwarded (the watermark).
const tableActivityForward = "cloud.activityforward"

// forwardLock is the lock a forwarding pass holds, so that one replica
// forwards at a time.
const forwardLock = "cloud/activity-forward"

// ActivitySink writes activity events to the Log Analytics workspace
// whose resource ID is workspaceID. It returns nil only once they are
// durable: the watermark moves past them afterwards.
type ActivitySink func(ctx context.Context, workspaceID string, events []ActivityEvent) error

// subscriptionSetting is a subscription diagnostic setting as the
// forwarder reads it.
type subscriptionSetting struct {
	ID, Subscription, Workspace string
	Categories                  map[string]bool
	Created                     time.Time
}

// validateSubscriptionSetting validates a diagnostic setting at
// subscription scope: it must name an existing Log Analytics workspace and
// activity-log categories (or the categoryGroup allLogs); other
// destinations (storage, event hubs, partner solutions) are refused,
// since Steward would not export anything to them.
func (c *Cloud) validateSubscriptionSetting(ctx context.Context, doc map[string]any) error {
	props, _ := doc["properties"].(map[string]any)
	if props == nil {
		return arm.BadRequest("InvalidRequestContent", "A diagnostic setting needs properties with workspaceId and logs.")
	}
	for _, k := range []string{"storageAccountId", "eventHubAuthorizationRuleId", "serviceBusRuleId", "marketplacePartnerId"} {
		if v, _ := props[k].(string); v != "" {
			return arm.Errorf(http.StatusBadRequest, CodeResourceTypeNotImplemented,
				"Steward sends the activity log to Log Analytics workspaces only; %s is not supported.", k)
		}
	}
	ws, _ := props["workspaceId"].(string)
	if ws == "" {
		return arm.BadRequest("InvalidParameter", "properties.workspaceId is required: the resource ID of the Log Analytics workspace to send the activity log to.")
	}
	wid, err := arm.ParseResourceID(ws)
	if err != nil || !strings.EqualFold(wid.ResourceType(), "Microsoft.OperationalInsights/workspaces") {
		return arm.BadRequest("InvalidParameter", "properties.workspaceId '%s' is not the resource ID of a Log Analytics workspace.", truncate(ws, 200))
	}
	if ok, err := c.Exists(ctx, ws); err != nil {
		return err
	} else if !ok {
		return arm.BadRequest("InvalidParameter", "The workspace '%s' does not exist.", truncate(ws, 200))
	}
	if _, err := settingCategories(props); err != nil {
		return err
	}
	if _, ok := props["metrics"]; ok {
		return arm.BadRequest("InvalidParameter", "Diagnostic settings of a subscription send logs only; remove metrics.")
	}
	return nil
}

// settingCategories reads the logs of a subscription diagnostic setting:
// the enabled categories (categoryGroup allLogs enables them all).
func settingCategories(props map[string]any) (map[string]bool, error) {
	list, _ := props["logs"].([]any)
	if len(list) == 0 {
		return nil, arm.BadRequest("InvalidParameter", "properties.logs must name at least one category of the activity log (%s) or the categoryGroup allLogs.", strings.Join(ActivityLogCategories, ", "))
	}
	out := map[string]bool{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		enabled, _ := m["enabled"].(bool)
		cat, _ := m["category"].(string)
		group, _ := m["categoryGroup"].(string)
		switch {
		case group != "":
			if !strings.EqualFold(group, "allLogs") {
				return nil, arm.BadRequest("InvalidParameter", "Category group '%s' is not supported for the activity log; use allLogs.", truncate(group, 40))
			}
			if enabled {
				for _, c := range ActivityLogCategories {
					out[c] = true
				}
			}
		case cat != "":
			known := ""
			for _, c := range ActivityLogCategories {
				if strings.EqualFold(c, cat) {
					known = c
				}
			}
			if known == "" {
				return nil, arm.BadRequest("InvalidParameter", "Category '%s' is not supported. Supported categories: %s.", truncate(cat, 40), strings.Join(ActivityLogCategories, ", "))
			}
			if enabled {
				out[known] = true
			}
		default:
			return nil, arm.BadRequest("InvalidParameter", "Each entry of properties.logs needs a category or a categoryGroup.")
		}
	}
	return out, nil
}

// extensionParent is the scope an extension resource hangs off: the part
// of its ID before its last "/providers/".
func extensionParent(id string) string {
	if i := strings.LastIndex(strings.ToLower(id), "/providers/"); i >= 0 {
		return id[:i]
	}
	return id
}

// subscriptionSettings lists the diagnostic settings at subscription scope.
func (c *Cloud) subscriptionSettings(ctx context.Context) ([]subscriptionSetting, error) {
	var out []subscriptionSetting
	after := ""
	for {
		page, next, err := c.List(ctx, ListQuery{Type: TypeDiagnosticSettings, Limit: store.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			rid, err := arm.ParseResourceID(r.ID)
			if err != nil || rid.ResourceGroup != "" || !strings.EqualFold(extensionParent(r.ID), "/subscriptions/"+rid.SubscriptionID) {
				continue
			}
			props, _ := r.Doc["properties"].(map[string]any)
			ws, _ := props["workspaceId"].(string)
			cats, err := settingCategories(props)
			if err != nil || ws == "" {
				continue
			}
			out = append(out, subscriptionSetting{ID: r.ID, Subscription: rid.SubscriptionID, Workspace: ws, Categories: cats, Created: r.Created})
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// forwardBatch is how many events one sink call receives at most.
const forwardBatch = 500

// ForwardActivity runs one forwarding pass: for every subscription
// diagnostic setting, the activity events of its categories recorded
// since its watermark (at first, since the setting was created, as Azure
// exports only what happens after) go to sink in time order, and the
// watermark moves past each batch the sink accepted. Delivery is at least
// once: a crash between the sink and the watermark resends a batch. The
// pass holds a store lock, so that replicas sharing a database do not
// forward the same events; when another holds it, the pass does nothing.
// It returns how many events it forwarded; a setting whose sink fails is
// retried on the next pass and does not stop the others.
func (c *Cloud) ForwardActivity(ctx context.Context, sink ActivitySink) (int, error) {
	lock, ok, err := c.store.TryLock(ctx, forwardLock)
	if err != nil || !ok {
		return 0, err
	}
	defer lock.Release(context.WithoutCancel(ctx))
	settings, err := c.subscriptionSettings(ctx)
	if err != nil {
		return 0, err
	}
	sort.Slice(settings, func(i, j int) bool { return settings[i].ID < settings[j].ID })
	total := 0
	var errs []error
	for _, s := range settings {
		n, err := c.forwardSetting(ctx, s, sink)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

func (c *Cloud) forwardSetting(ctx context.Context, s subscriptionSetting, sink ActivitySink) (int, error) {
	wmKey := resKey(s.ID)
	mark := ""
	err := c.store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableActivityForward, wmKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var wm struct {
			After     string `json:"after"`
			Workspace string `json:"workspace"`
		}
		if err := json.Unmarshal(rec.Value, &wm); err != nil {
			return err
		}
		// A setting pointed at another workspace starts over from now there.
		if strings.EqualFold(wm.Workspace, s.Workspace) {
			mark = wm.After
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	prefix := activityPrefix(s.Subscription)
	if mark == "" {
		mark = prefix + s.Created.UTC().Format(activityKeyTime)
	}
	sent := 0
	for {
		var batch []ActivityEvent
		last := ""
		err := c.store.View(ctx, func(tx store.Tx) error {
			batch, last = nil, ""
			// Start is inclusive: the record at the mark was sent already.
			page, err := tx.Scan(ctx, tableActivity, store.Query{Prefix: prefix, Start: mark, Limit: forwardBatch + 1})
			if err != nil {
				return err
			}
			for _, rec := range page.Records {
				if rec.Key <= mark {
					continue
				}
				last = rec.Key
				var ev ActivityEvent
				if err := json.Unmarshal(rec.Value, &ev); err != nil {
					return err
				}
				if s.Categories[ev.Category.Value] {
					batch = append(batch, ev)
				}
			}
			return nil
		})
		if err != nil || last == "" {
			return sent, err
		}
		if len(batch) > 0 {
			if err := sink(ctx, s.Workspace, batch); err != nil {
				return sent, err
			}
		}
		sent += len(batch)
		mark = last
		b, _ := json.Marshal(map[string]string{"after": mark, "workspace": s.Workspace})
		if err := c.store.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put(ctx, tableActivityForward, wmKey, b, store.Cond{})
			return err
		}); err != nil {
			return sent, err
		}
	}
}
