package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reconciled counts what a reconciliation changed.
type Reconciled struct {
	Known   int `json:"known"`
	Added   int `json:"added"`
	Updated int `json:"updated"`
	Removed int `json:"removed"`
}

// Reconcile brings the inventory in line with ARM, for the notifications
// that never came (applications deployed before the endpoint existed, or
// events Azure dropped after ten hours of failures): every recorded
// application is read again (removed when ARM no longer has it, marked
// Inaccessible when the principal may no longer read it), and the
// applications of every subscription the principal can list are added.
// A publisher usually lists no customer subscription, so discovery mostly
// finds the publisher's own test deployments; refreshing works anywhere.
func Reconcile(ctx context.Context, apps *Applications, inv Inventory, now func() time.Time) (Reconciled, error) {
	var r Reconciled
	known, err := inv.List(ctx)
	if err != nil {
		return r, err
	}
	seen := map[string]bool{}
	var errs []error
	for _, d := range known {
		pk, rk := d.Key()
		seen[pk+"/"+rk] = true
		r.Known++
		app, err := apps.Get(ctx, d.ApplicationID)
		if errors.Is(err, ErrApplicationNotFound) {
			if err := inv.Delete(ctx, pk, rk); err != nil {
				errs = append(errs, err)
				continue
			}
			r.Removed++
			continue
		}
		if errors.Is(err, ErrApplicationNotVisible) {
			if d.ProvisioningState != StateInaccessible {
				d.ProvisioningState, d.LastSeen = StateInaccessible, now().UTC()
				if err := inv.Put(ctx, d); err != nil {
					errs = append(errs, err)
					continue
				}
				r.Updated++
			}
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.ApplicationID, err))
			continue
		}
		fresh, err := describe(app)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if fresh.ProvisioningState == d.ProvisioningState && strings.EqualFold(fresh.ManagedResourceGroupID, d.ManagedResourceGroupID) {
			continue
		}
		d.ProvisioningState, d.ManagedResourceGroupID, d.LastSeen = fresh.ProvisioningState, fresh.ManagedResourceGroupID, now().UTC()
		if err := inv.Put(ctx, d); err != nil {
			errs = append(errs, err)
			continue
		}
		r.Updated++
	}
	subs, err := apps.Subscriptions(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing subscriptions: %w", err))
	}
	for _, sub := range subs {
		list, err := apps.List(ctx, sub)
		if err != nil {
			// A subscription the principal sees but may not list
			// applications in is not an error of the reconciliation.
			continue
		}
		for _, app := range list {
			d, err := describe(app)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			pk, rk := d.Key()
			if seen[pk+"/"+rk] {
				continue
			}
			seen[pk+"/"+rk] = true
			d.TenantID = apps.TenantOf(ctx, d.SubscriptionID)
			d.LastEventType, d.LastSeen = "Reconcile", now().UTC()
			if err := inv.Put(ctx, d); err != nil {
				errs = append(errs, err)
				continue
			}
			r.Added++
		}
	}
	return r, errors.Join(errs...)
}
