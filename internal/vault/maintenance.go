package vault

import (
	"context"
	"errors"
	"time"
)

// MaintenanceReport counts what one Maintain pass did.
type MaintenanceReport struct {
	// Purged is the number of deleted objects purged at the end of their
	// retention.
	Purged int `json:"purged"`
	// RotatedKeys is the number of keys rotated by their rotation policy.
	RotatedKeys int `json:"rotatedKeys"`
	// RenewedCertificates is the number of self-issued certificates renewed
	// by an AutoRenew lifetime action.
	RenewedCertificates int `json:"renewedCertificates"`
}

// Maintain runs the vault's timed work once, at the service's clock: it
// purges deleted objects whose scheduled purge date has passed, rotates keys
// whose rotation policy has a Rotate action that is due (timeAfterCreate
// since the current version was created, or timeBeforeExpiry before it
// expires), and renews Self-issued certificates whose AutoRenew action is due
// (lifetime_percentage of the validity elapsed, or days_before_expiry left).
// Replicas should run it under one lock; running it twice is harmless but
// may rotate twice. A failure on one object is logged and the pass goes on.
func (s *Service) Maintain(ctx context.Context) (MaintenanceReport, error) {
	var rep MaintenanceReport
	vaults, err := s.ListVaults(ctx)
	if err != nil {
		return rep, err
	}
	now := s.now()
	for _, v := range vaults {
		v.URL = "https://" + v.Name + "." + DefaultDNSSuffix
		for _, k := range []kind{kindCert, kindKey, kindSecret} {
			if err := s.maintainKind(ctx, v, k, now, &rep); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

func (s *Service) maintainKind(ctx context.Context, v Vault, k kind, now time.Time, rep *MaintenanceReport) error {
	after := ""
	for {
		var heads []head
		err := s.view(ctx, func(tx sealedTx) error {
			var err error
			heads, after, err = listHeads(ctx, tx, v, k, after, 100)
			return err
		})
		if err != nil {
			return err
		}
		for _, h := range heads {
			if err := ctx.Err(); err != nil {
				return err
			}
			done, err := s.maintainObject(ctx, v, k, h, now)
			if err != nil {
				s.log.Warn("vault maintenance", "vault", v.Name, "kind", string(k), "name", h.Name, "err", err.Error())
				continue
			}
			switch done {
			case "purged":
				rep.Purged++
			case "rotated":
				rep.RotatedKeys++
			case "renewed":
				rep.RenewedCertificates++
			}
		}
		if after == "" {
			return nil
		}
	}
}

// maintainObject does what is due for one object and says what it did.
func (s *Service) maintainObject(ctx context.Context, v Vault, k kind, h head, now time.Time) (string, error) {
	if h.Deleted != nil {
		if h.Managed || now.Unix() < h.Deleted.PurgeDate {
			return "", nil // a certificate's purge takes its key and secret
		}
		var err error
		if k == kindCert {
			err = s.PurgeDeletedCertificate(ctx, v, h.Name)
		} else {
			err = s.purgeObject(ctx, v, k, h.Name)
		}
		return "purged", err
	}
	if h.Current == "" || h.Managed {
		return "", nil
	}
	switch k {
	case kindKey:
		if h.Rotation == nil {
			return "", nil
		}
		_, cur, err := s.current(ctx, v, k, h.Name)
		if err != nil || !rotationDue(h.Rotation, cur.Attributes, now) {
			return "", err
		}
		_, err = s.RotateKey(ctx, v, h.Name)
		return "rotated", err
	case kindCert:
		if h.CertPolicy == nil || h.CertPolicy.Issuer == nil || h.CertPolicy.Issuer.Name != IssuerSelf {
			return "", nil
		}
		_, cur, err := s.current(ctx, v, k, h.Name)
		if err != nil || !renewalDue(h.CertPolicy, cur.Attributes, now) {
			return "", err
		}
		_, err = s.CreateCertificate(ctx, v, h.Name, CertificateCreateParams{Policy: h.CertPolicy, Tags: cur.Tags})
		return "renewed", err
	}
	return "", nil
}

func (s *Service) current(ctx context.Context, v Vault, k kind, name string) (head, version, error) {
	var h head
	var ver version
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, ver, err = getVersion(ctx, tx, v, k, name, "")
		return err
	})
	return h, ver, err
}

// rotationDue reports whether a Rotate action of a policy is due for the
// current version's attributes.
func rotationDue(p *KeyRotationPolicy, a Attributes, now time.Time) bool {
	for _, la := range p.LifetimeActions {
		if la.Action.Type != "Rotate" && la.Action.Type != "rotate" {
			continue
		}
		if d, ok := parseISODuration(la.Trigger.TimeAfterCreate); ok && !now.Before(d.after(time.Unix(a.Created, 0))) {
			return true
		}
		if d, ok := parseISODuration(la.Trigger.TimeBeforeExpiry); ok && a.Expires != nil && !now.Before(d.before(time.Unix(*a.Expires, 0))) {
			return true
		}
	}
	return false
}

// renewalDue reports whether an AutoRenew action of a certificate policy
// is due for the current version's validity.
func renewalDue(p *CertificatePolicy, a Attributes, now time.Time) bool {
	if a.NotBefore == nil || a.Expires == nil {
		return false
	}
	nbf, exp := time.Unix(*a.NotBefore, 0), time.Unix(*a.Expires, 0)
	for _, la := range p.LifetimeActions {
		if la.Action.ActionType != "AutoRenew" {
			continue
		}
		if pct := la.Trigger.LifetimePercentage; pct > 0 && !now.Before(nbf.Add(exp.Sub(nbf)*time.Duration(pct)/100)) {
			return true
		}
		if days := la.Trigger.DaysBeforeExpiry; days > 0 && !now.Before(exp.AddDate(0, 0, -days)) {
			return true
		}
	}
	return false
}

// MaintainEvery runs Maintain every interval until ctx is done, holding
// the store lock "vault.maintenance" for each pass so that one replica
// does the work. Errors are logged.
func (s *Service) MaintainEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lock, ok, err := s.st.TryLock(ctx, "vault.maintenance")
		if err != nil || !ok {
			if err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("vault maintenance lock", "err", err.Error())
			}
			continue
		}
		if rep, err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("vault maintenance", "err", err.Error())
		} else if rep != (MaintenanceReport{}) {
			s.log.Info("vault maintenance", "purged", rep.Purged, "rotatedKeys", rep.RotatedKeys, "renewedCertificates", rep.RenewedCertificates)
		}
		_ = lock.Release(context.WithoutCancel(ctx))
	}
}
