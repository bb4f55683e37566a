package cloud

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// TypeActivityLog is the type of the activity-log list,
// {scope}/providers/Microsoft.Insights/eventtypes/management/values.
const TypeActivityLog = "Microsoft.Insights/eventtypes/values"

// ActivityAPIVersions are the api-versions of the activity-log list.
var ActivityAPIVersions = []string{"2014-04-01", "2015-04-01", "2017-03-01-preview"}

// activityKeyTime is how event times sort inside activity-log keys.
const activityKeyTime = "20060102T150405.000000000"

// ActivityQuery selects activity-log events.
type ActivityQuery struct {
	// SubscriptionID selects the subscription's events ("" for tenant-level
	// ones).
	SubscriptionID string
	// From and To bound eventTimestamp (inclusive); zero means unbounded.
	From, To time.Time
	// Match, when set, filters the events.
	Match func(ActivityEvent) bool
	Limit int
	After string
}

// QueryActivity returns one page of events in time order and the token of
// the next page.
func (c *Cloud) QueryActivity(ctx context.Context, q ActivityQuery) ([]ActivityEvent, string, error) {
	prefix := activityPrefix(q.SubscriptionID)
	sq := store.Query{Prefix: prefix, Limit: q.Limit, After: q.After}
	if !q.From.IsZero() {
		sq.Start = prefix + q.From.UTC().Format(activityKeyTime)
	}
	if !q.To.IsZero() {
		sq.End = prefix + q.To.UTC().Add(time.Nanosecond).Format(activityKeyTime)
	}
	var out []ActivityEvent
	var next string
	err := c.store.View(ctx, func(tx store.Tx) error {
		out = nil
		page, err := tx.Scan(ctx, tableActivity, sq)
		if err != nil {
			return err
		}
		next = page.Next
		for _, rec := range page.Records {
			var ev ActivityEvent
			if err := json.Unmarshal(rec.Value, &ev); err != nil {
				return err
			}
			if q.Match == nil || q.Match(ev) {
				out = append(out, ev)
			}
		}
		return nil
	})
	return out, next, err
}

// serveActivityLog answers GET {scope}/providers/Microsoft.Insights/eventtypes/management/values
// with the $filter Azure requires: eventTimestamp ge (and optionally le)
// and optionally one of resourceGroupName, resourceUri, resourceProvider,
// correlationId, caller, status eq.
func (c *Cloud) serveActivityLog(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if !t.Collection || !strings.HasSuffix(strings.ToLower(t.Scope), "/eventtypes/management") {
		return nil, arm.NotFound("NotFound", "The activity log is served at {scope}/providers/Microsoft.Insights/eventtypes/management/values.")
	}
	if call.Method != http.MethodGet {
		return nil, methodNotAllowed(call.Method)
	}
	sub := subscriptionOf(t)
	scope := "/"
	if sub != "" {
		scope = "/subscriptions/" + sub
	}
	if err := call.Authorize(ctx, TypeActivityLog+"/read", scope); err != nil {
		return nil, err
	}
	q, err := parseActivityFilter(call.Query.Get("$filter"))
	if err != nil {
		return nil, err
	}
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	q.SubscriptionID, q.Limit, q.After = sub, size, after
	events, next, err := c.QueryActivity(ctx, q)
	if err != nil {
		return nil, listError(err)
	}
	out := List{Value: make([]any, 0, len(events))}
	for _, ev := range events {
		out.Value = append(out.Value, ev)
	}
	out.NextLink = call.NextLink(next)
	return &Response{Status: http.StatusOK, Body: out}, nil
}

// parseActivityFilter reads the activity log's $filter.
func parseActivityFilter(s string) (ActivityQuery, error) {
	var q ActivityQuery
	if strings.TrimSpace(s) == "" {
		return q, arm.BadRequest("BadRequest", "The $filter query parameter is required and must bound eventTimestamp, such as \"eventTimestamp ge '2026-01-01T00:00:00Z'\".")
	}
	if len(s) > maxFilterLen {
		return q, badFilter(s[:40], "too long")
	}
	toks, err := lexFilter(s)
	if err != nil {
		return q, badFilter(s, err.Error())
	}
	eq := map[string]string{}
	for i := 0; i < len(toks); {
		if i+2 >= len(toks) || toks[i].kind != tokWord || !activityValue(toks[i], toks[i+2]) {
			return q, badFilter(s, "expected `field op 'value'`")
		}
		field, op, val := strings.ToLower(toks[i].text), strings.ToLower(toks[i+1].text), toks[i+2].text
		switch {
		case field == "eventtimestamp" && (op == "ge" || op == "le"):
			ts, err := parseEventTime(val)
			if err != nil {
				return q, badFilter(s, "eventTimestamp needs an ISO 8601 time")
			}
			if op == "ge" {
				q.From = ts
			} else {
				q.To = ts
			}
		case op == "eq" && (field == "resourcegroupname" || field == "resourceuri" || field == "resourceid" ||
			field == "resourceprovider" || field == "correlationid" || field == "caller" || field == "status"):
			eq[field] = val
		default:
			return q, badFilter(s, "unsupported clause '"+truncate(toks[i].text, 40)+" "+truncate(toks[i+1].text, 10)+"'")
		}
		i += 3
		if i < len(toks) {
			if !strings.EqualFold(toks[i].text, "and") || i+1 == len(toks) {
				return q, badFilter(s, "clauses must be joined with 'and'")
			}
			i++
		}
	}
	if q.From.IsZero() {
		return q, badFilter(s, "eventTimestamp ge is required")
	}
	if len(eq) > 0 {
		q.Match = func(ev ActivityEvent) bool {
			for f, v := range eq {
				var got string
				switch f {
				case "resourcegroupname":
					got = ev.ResourceGroupName
				case "resourceuri", "resourceid":
					got = ev.ResourceID
				case "resourceprovider":
					got = ev.ResourceProviderName.Value
				case "correlationid":
					got = ev.CorrelationID
				case "caller":
					got = ev.Caller
				case "status":
					got = ev.Status.Value
				}
				if !strings.EqualFold(got, v) {
					return false
				}
			}
			return true
		}
	}
	return q, nil
}

// activityValue reports whether val can be the value compared with field:
// a quoted string, or for eventTimestamp also a bare time, as the Azure CLI
// sends (`eventTimestamp ge 2026-11-22T07:28:43.020280`).
func activityValue(field, val token) bool {
	return val.kind == tokString || val.kind == tokWord && strings.EqualFold(field.text, "eventTimestamp")
}

// eventTimeLayouts are the ISO 8601 forms without a zone accepted for
// eventTimestamp; they are read as UTC.
var eventTimeLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

// parseEventTime reads an eventTimestamp value: RFC 3339, or ISO 8601
// without a zone, taken as UTC (the Azure CLI formats the bounds of
// --offset with Python's datetime.isoformat() of a naive UTC time).
func parseEventTime(v string) (time.Time, error) {
	ts, err := time.Parse(time.RFC3339Nano, v)
	if err == nil {
		return ts, nil
	}
	for _, layout := range eventTimeLayouts {
		if t, e := time.ParseInLocation(layout, v, time.UTC); e == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// ActivityRetention is how long Azure keeps activity-log events.
const ActivityRetention = 90 * 24 * time.Hour

// PruneActivity deletes the activity-log events older than before, a page
// of keys per transaction, and returns how many it deleted. Run it
// periodically with now minus ActivityRetention.
func (c *Cloud) PruneActivity(ctx context.Context, before time.Time) (int, error) {
	cutoff := before.UTC().Format(activityKeyTime)
	deleted, after := 0, ""
	for {
		var next string
		err := c.store.Update(ctx, func(tx store.Tx) error {
			page, err := tx.Scan(ctx, tableActivity, store.Query{After: after, KeysOnly: true, Limit: store.MaxPageSize})
			if err != nil {
				return err
			}
			next = page.Next
			for _, rec := range page.Records {
				_, rest, _ := strings.Cut(rec.Key, "|")
				ts, _, _ := strings.Cut(rest, "|")
				if ts < cutoff {
					if err := tx.Delete(ctx, tableActivity, rec.Key, store.Cond{}); err != nil {
						return err
					}
					deleted++
				}
			}
			return nil
		})
		if err != nil || next == "" {
			return deleted, err
		}
		after = next
	}
}
