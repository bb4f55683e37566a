package vending

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/steward-gov/steward/internal/arm"
)

// DefaultLeaseTTL is how long a replica's lease on a request it carries
// out lasts without being renewed. The replica renews it every third of
// that; when it dies, another replica takes the request over once the
// lease has run out (see [Public.TakeOver]).
const DefaultLeaseTTL = time.Minute

// errLeaseLost ends a request's run on a replica whose lease another
// replica has taken over.
var errLeaseLost = errors.New("vending: the request's lease was taken over by another replica")

var defaultOwner = sync.OnceValue(func() string { return "vending-" + rand.Text() })

func (p *Public) owner() string {
	if p.Owner != "" {
		return p.Owner
	}
	return defaultOwner()
}

func (p *Public) leaseTTL() time.Duration {
	if p.LeaseTTL > 0 {
		return p.LeaseTTL
	}
	return DefaultLeaseTTL
}

// planOf is the plan of a recorded request, with the catalog's current
// entry for its subscription.
func planOf(sub Subscription, rec Record) Plan {
	return Plan{Subscription: sub, Group: lastSegment(rec.Group), Location: rec.Request.Region, Tags: rec.Tags, RequestID: rec.ID}
}

// held is a request this replica holds the lease on: the record as last
// written, and the row's ETag, which every write of the record must match.
type held struct {
	p    *Public
	mu   sync.Mutex
	rec  Record
	etag azcore.ETag
	lost bool
}

// save writes h.rec as changed by edit, if the row is still as this
// replica last wrote it; a row changed meanwhile means the lease was
// taken over (errLeaseLost).
func (h *held) save(ctx context.Context, edit func(*Record)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost {
		return errLeaseLost
	}
	k, err := h.p.Internal.ValetKey(ctx)
	if err != nil {
		return err
	}
	rec := h.rec
	edit(&rec)
	etag, err := h.p.saveRecord(ctx, k, rec, false, h.etag)
	if isCode(err, "UpdateConditionNotSatisfied") {
		h.lost = true
		return errLeaseLost
	}
	if err != nil {
		return err
	}
	h.rec, h.etag = rec, etag
	return nil
}

// renew extends the lease every third of its TTL until ctx ends; when the
// lease is lost it calls lost. A renewal that fails otherwise (the table
// service unreachable) is tried again at the next tick.
func (h *held) renew(ctx context.Context, lost func()) {
	ttl := h.p.leaseTTL()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := h.save(ctx, func(r *Record) { r.LeaseUntil = h.p.now().UTC().Add(ttl) })
		if errors.Is(err, errLeaseLost) {
			lost()
			return
		}
		if err != nil && ctx.Err() == nil && h.p.Log != nil {
			h.p.Log.Warn("vending: renewing a request's lease", "request", h.rec.ID, "err", err)
		}
	}
}

// start carries out a request whose lease this replica holds (etag is
// the row's ETag after the lease was written) in the background, renewing
// the lease, and records the outcome unless the lease was lost meanwhile.
func (p *Public) start(rec Record, etag azcore.ETag, plan Plan) {
	h := &held{p: p, rec: rec, etag: etag}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		renewCtx, stopRenew := context.WithCancel(ctx)
		renewed := make(chan struct{})
		go func() { defer close(renewed); h.renew(renewCtx, cancel) }()
		made, err := Provision(ctx, p.Internal.Execution(plan.Subscription.ID), p.ARM, plan)
		stopRenew()
		<-renewed
		// The outcome is written with a context of its own: the run's may
		// have run out.
		wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
		defer wcancel()
		err = h.save(wctx, func(r *Record) {
			r.Updated, r.Owner, r.LeaseUntil = p.now().UTC(), "", time.Time{}
			if err != nil {
				r.Status, r.Error = StatusFailed, provisioningError(err)
			} else {
				r.Status, r.Resources = StatusSucceeded, made
			}
		})
		if err != nil && p.Log != nil {
			p.Log.Error("vending: recording a request's outcome", "request", rec.ID, "err", err)
		}
	}()
}

// provisioningError is the error a failed request records: a refusal of
// the request itself (the group exists) keeps its code; a failed step is
// ProvisioningFailed, naming the step and the upstream error.
func provisioningError(err error) *arm.Error {
	e, ok := err.(*arm.Error)
	if !ok || e.Status >= 500 || e.Status == 0 {
		msg := err.Error()
		if len(msg) > 600 {
			msg = msg[:600] + "…"
		}
		e = arm.Errorf(http.StatusBadGateway, "ProvisioningFailed", "%s", msg)
	}
	return e
}

// TakeOver takes over the requests being carried out whose lease has run
// out (their replica died, or was cut off from the table service for
// longer than the lease), and carries them out here; it returns how many
// it took. Provisioning is keyed by the request, so a request taken over
// halfway finishes what the dead replica began: the group it created (it
// carries the request's ID in its VendingRequest tag) is kept rather than
// refused or created again, and role assignments, policy assignments, the
// budget and the lock are written under the same names. Replicas race for
// a request through the row's ETag: one wins.
func (p *Public) TakeOver(ctx context.Context) (int, error) {
	k, err := p.Internal.ValetKey(ctx)
	if err != nil {
		return 0, err
	}
	recs, err := p.records(ctx, k, "Status eq '"+StatusRunning+"'")
	if err != nil {
		return 0, err
	}
	var cat *Catalog
	n := 0
	for _, r := range recs {
		now := p.now().UTC()
		if r.LeaseUntil.After(now) {
			continue
		}
		rec, etag, ok, err := p.recordAt(ctx, k, r.Caller, r.ID)
		if err != nil {
			return n, err
		}
		if !ok || rec.Status != StatusRunning || rec.LeaseUntil.After(now) {
			continue
		}
		if cat == nil {
			if cat, err = ReadCatalog(ctx, k.Open(p.Tables)); err != nil {
				return n, err
			}
		}
		from := rec.Owner
		sub, inCatalog := cat.Subscriptions[strings.ToLower(strings.TrimSpace(rec.Request.SubscriptionID))]
		if !inCatalog {
			rec.Status, rec.Owner, rec.LeaseUntil, rec.Updated = StatusFailed, "", time.Time{}, now
			rec.Error = arm.Errorf(http.StatusConflict, "SubscriptionNotSupported",
				"The subscription '%s' left the catalog while the request was carried out.", rec.Request.SubscriptionID)
		} else {
			rec.Owner, rec.LeaseUntil = p.owner(), now.Add(p.leaseTTL())
		}
		etag, err = p.saveRecord(ctx, k, rec, false, etag)
		if isCode(err, "UpdateConditionNotSatisfied") {
			continue // another replica took it first
		}
		if err != nil {
			return n, fmt.Errorf("taking over request %s: %w", rec.ID, err)
		}
		if !inCatalog {
			continue
		}
		if p.Log != nil {
			p.Log.Info("vending: taking over a request", "request", rec.ID, "from", from)
		}
		p.start(rec, etag, planOf(sub, rec))
		n++
	}
	return n, nil
}
