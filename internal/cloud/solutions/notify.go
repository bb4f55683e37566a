package solutions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// tableOutbox holds the notifications not yet delivered, keyed by the time
// they are due (so that a scan finds the due ones first) and a unique
// suffix.
const tableOutbox = "solutions.outbox"

// RetryPolicy is the schedule of a notification that its endpoint did not
// accept: the n-th retry waits Base·2^(n-1), at most Max, and a
// notification still undelivered GiveUp after its event is dropped.
type RetryPolicy struct {
	Base, Max, GiveUp time.Duration
}

// DefaultRetry is Steward's schedule. Azure documents that it retries a
// notification the endpoint answered with 5xx or 429 (or did not answer)
// and drops it after 10 hours, without publishing the intervals; Steward
// backs off exponentially from one minute to one hour within those 10
// hours (docs/decisions/managedapps.md).
var DefaultRetry = RetryPolicy{Base: time.Minute, Max: time.Hour, GiveUp: 10 * time.Hour}

// notification is one queued POST.
type notification struct {
	URI         string          `json:"uri"`
	Body        json.RawMessage `json:"body"`
	Application string          `json:"applicationId"`
	Event       string          `json:"event"`
	Created     time.Time       `json:"created"`
	Attempts    int             `json:"attempts"`
}

var outboxSeq atomic.Uint64

func outboxKey(due time.Time) string {
	return fmt.Sprintf("%020d|%06d|%s", due.UnixNano(), outboxSeq.Add(1)%1000000, uuid.NewString())
}

// enqueue queues the lifecycle notification of an application for each of
// its definition's endpoints. A failure to queue is logged: the
// application's state is already committed and stays authoritative.
func (p *Provider) enqueue(ctx context.Context, app map[string]any, eventType, state string, failure error) {
	props, _ := app["properties"].(map[string]any)
	appID := stringOf(app["id"])
	def, err := p.c.Get(ctx, stringOf(props["applicationDefinitionId"]))
	if err != nil {
		return // no definition, no endpoint
	}
	dprops, _ := def.Doc["properties"].(map[string]any)
	np, _ := dprops["notificationPolicy"].(map[string]any)
	eps, _ := np["notificationEndpoints"].([]any)
	if len(eps) == 0 {
		return
	}
	now := p.c.Now()
	payload := map[string]any{
		"eventType":         eventType,
		"applicationId":     appID,
		"eventTime":         now.Format(time.RFC3339Nano),
		"provisioningState": state,
	}
	if stringOf(app["kind"]) == "MarketPlace" {
		payload["plan"] = app["plan"]
		if b := props["billingDetails"]; b != nil {
			payload["billingDetails"] = b
		}
	} else {
		payload["applicationDefinitionId"] = def.ID
	}
	if failure != nil && state == "Failed" {
		ae := arm.AsError(failure)
		e := map[string]any{"code": ae.Code, "message": ae.Message}
		details := []any{}
		for _, d := range ae.Details {
			details = append(details, map[string]any{"code": d.Code, "message": d.Message})
		}
		e["details"] = details
		payload["error"] = e
	}
	body, err := json.Marshal(payload)
	if err != nil {
		p.log.Error("encoding a notification failed", "application", appID, "err", err)
		return
	}
	err = p.c.Store().Update(ctx, func(tx store.Tx) error {
		for _, e := range eps {
			m, _ := e.(map[string]any)
			n := notification{URI: resourceURI(stringOf(m["uri"])), Body: body, Application: appID,
				Event: eventType + " " + state, Created: now}
			b, err := json.Marshal(n)
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, tableOutbox, outboxKey(now), b, store.IfAbsent()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		p.log.Error("queueing a notification failed", "application", appID, "event", eventType+" "+state, "err", err)
		return
	}
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// resourceURI is the endpoint with /resource appended to its path, its
// query (such as a sig shared secret) kept, as Azure posts it.
func resourceURI(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/resource"
	u.RawPath = ""
	return u.String()
}

// Start delivers queued notifications until ctx ends. Several replicas
// may run it on one store: each notification is leased to one of them.
func (p *Provider) Start(ctx context.Context) {
	owner := "solutions-" + uuid.NewString()
	go func() {
		t := time.NewTicker(p.opts.Poll)
		defer t.Stop()
		for {
			p.deliverDue(ctx, owner)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-p.kick:
			}
		}
	}()
}

// deliverDue sends the notifications that are due, oldest first.
func (p *Provider) deliverDue(ctx context.Context, owner string) {
	for ctx.Err() == nil {
		// A read first: leasing (a write) only when the earliest
		// notification is due keeps an outbox of retries waiting for
		// their time from writing at every poll.
		if !p.anyDue(ctx) {
			return
		}
		leases, err := p.c.Store().Acquire(ctx, tableOutbox, "", owner, 2*time.Minute+p.opts.Client.Timeout, 16)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("leasing notifications failed", "err", err)
			}
			return
		}
		if len(leases) == 0 {
			return
		}
		now := p.c.Now()
		more := false
		for _, l := range leases {
			if keyDue(l.Key).After(now) {
				_ = p.c.Store().Release(ctx, tableOutbox, l.Key, owner)
				continue
			}
			more = true
			p.deliver(ctx, l.Key, l.Value)
		}
		if !more {
			return
		}
	}
}

// anyDue reports whether the earliest queued notification is due.
func (p *Provider) anyDue(ctx context.Context) bool {
	due := false
	err := p.c.Store().View(ctx, func(tx store.Tx) error {
		page, err := tx.Scan(ctx, tableOutbox, store.Query{Limit: 1})
		if err != nil {
			return err
		}
		due = len(page.Records) > 0 && !keyDue(page.Records[0].Key).After(p.c.Now())
		return nil
	})
	if err != nil && ctx.Err() == nil {
		p.log.Error("reading the notification outbox failed", "err", err)
	}
	return due
}

// keyDue reads the due time of an outbox key.
func keyDue(key string) time.Time {
	var ns int64
	if _, err := fmt.Sscanf(key[:min(20, len(key))], "%d", &ns); err != nil {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// deliver posts one notification and removes it, reschedules it, or
// drops it, by the endpoint's answer.
func (p *Provider) deliver(ctx context.Context, key string, value []byte) {
	var n notification
	if err := json.Unmarshal(value, &n); err != nil {
		p.log.Error("dropping an unreadable notification", "err", err)
		p.drop(ctx, key)
		return
	}
	status, err := p.post(ctx, n)
	switch {
	case err == nil && status >= 200 && status < 300:
		p.drop(ctx, key)
		return
	case err == nil && !retryable(status):
		p.log.Warn("notification refused by its endpoint; not retried", "application", n.Application, "event", n.Event, "status", status)
		p.drop(ctx, key)
		return
	}
	now := p.c.Now()
	n.Attempts++
	if now.Sub(n.Created) >= p.opts.Retry.GiveUp {
		p.log.Warn("notification dropped after the retry period", "application", n.Application, "event", n.Event, "attempts", n.Attempts)
		p.drop(ctx, key)
		return
	}
	wait := p.opts.Retry.Base
	for i := 1; i < n.Attempts && wait < p.opts.Retry.Max; i++ {
		wait *= 2
	}
	wait = min(wait, p.opts.Retry.Max)
	b, merr := json.Marshal(n)
	if merr != nil {
		return
	}
	uerr := p.c.Store().Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, tableOutbox, key, store.Cond{}); err != nil {
			return err
		}
		_, err := tx.Put(ctx, tableOutbox, outboxKey(now.Add(wait)), b, store.IfAbsent())
		return err
	})
	if uerr != nil && ctx.Err() == nil {
		p.log.Error("rescheduling a notification failed", "err", uerr)
	}
}

// retryable says whether Azure retries a notification after this answer:
// 5xx, 429 and (an endpoint not deployed yet) 404.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusNotFound
}

func (p *Provider) post(ctx context.Context, n notification) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URI, bytes.NewReader(n.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

func (p *Provider) drop(ctx context.Context, key string) {
	err := p.c.Store().Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, tableOutbox, key, store.Cond{})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil && ctx.Err() == nil {
		p.log.Error("removing a notification failed", "err", err)
	}
}

// Pending returns the number of notifications not yet delivered.
func (p *Provider) Pending(ctx context.Context) (int, error) {
	n := 0
	err := p.c.Store().View(ctx, func(tx store.Tx) error {
		q := store.Query{}
		for {
			page, err := tx.Scan(ctx, tableOutbox, q)
			if err != nil {
				return err
			}
			n += len(page.Records)
			if page.Next == "" {
				return nil
			}
			q.After = page.Next
		}
	})
	return n, err
}
