package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/steward-gov/steward/internal/store"
)

// GetCertificate reads a certificate version; ver "" is the current one
// and carries the policy.
func (s *Service) GetCertificate(ctx context.Context, v Vault, name, ver string) (CertificateBundle, error) {
	var h head
	var out version
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, out, err = getVersion(ctx, tx, v, kindCert, name, ver)
		return err
	})
	if err != nil {
		return CertificateBundle{}, err
	}
	return certBundle(v, h, out, ver == ""), nil
}

// Certificate returns a certificate version parsed, for making a service
// principal's certificate credential from it.
func (s *Service) Certificate(ctx context.Context, v Vault, name, ver string) (*x509.Certificate, error) {
	b, err := s.GetCertificate(ctx, v, name, ver)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(b.CER)
}

// UpdateCertificate changes a version's attributes and tags (mirrored on
// the backing key and secret) and, when given, the policy.
func (s *Service) UpdateCertificate(ctx context.Context, v Vault, name, ver string, p CertificateUpdateParams) (CertificateBundle, error) {
	var h head
	var out version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, out, err = getVersion(ctx, tx, v, kindCert, name, ver); err != nil {
			return err
		}
		upd := UpdateParams{Attributes: p.Attributes, Tags: p.Tags}
		if p.Attributes != nil {
			// nbf and exp of a certificate come from the certificate itself.
			a := *p.Attributes
			a.NotBefore, a.Expires = nil, nil
			upd.Attributes = &a
		}
		s.applyUpdate(&out, upd)
		if err := putVersion(ctx, tx, v, kindCert, name, out); err != nil {
			return err
		}
		for _, k := range []kind{kindKey, kindSecret} {
			_, bv, err := getVersion(ctx, tx, v, k, name, out.Version)
			if err != nil {
				return err
			}
			s.applyUpdate(&bv, upd)
			if err := putVersion(ctx, tx, v, k, name, bv); err != nil {
				return err
			}
		}
		if p.Policy != nil {
			pol, err := normalizePolicy(mergePolicy(h.CertPolicy, p.Policy), s.unix())
			if err != nil {
				return err
			}
			h.CertPolicy = pol
			return putHead(ctx, tx, v, kindCert, h)
		}
		return nil
	})
	if err != nil {
		return CertificateBundle{}, err
	}
	return certBundle(v, h, out, true), nil
}

// GetCertificatePolicy reads a certificate's policy.
func (s *Service) GetCertificatePolicy(ctx context.Context, v Vault, name string) (CertificatePolicy, error) {
	h, err := s.certHead(ctx, v, name)
	if err != nil {
		return CertificatePolicy{}, err
	}
	p := clonePolicy(h.CertPolicy)
	p.ID = v.objectID(kindCert, h.Name, "policy")
	return *p, nil
}

// UpdateCertificatePolicy changes the parts of a certificate's policy that
// upd carries; it applies to versions made afterwards.
func (s *Service) UpdateCertificatePolicy(ctx context.Context, v Vault, name string, upd CertificatePolicy) (CertificatePolicy, error) {
	var pol *CertificatePolicy
	err := s.update(ctx, func(tx sealedTx) error {
		h, err := s.certHeadTx(ctx, tx, v, name)
		if err != nil {
			return err
		}
		if pol, err = normalizePolicy(mergePolicy(h.CertPolicy, &upd), s.unix()); err != nil {
			return err
		}
		h.CertPolicy = pol
		return putHead(ctx, tx, v, kindCert, h)
	})
	if err != nil {
		return CertificatePolicy{}, err
	}
	pol.ID = v.objectID(kindCert, name, "policy")
	return *pol, nil
}

// certHead reads the head of a certificate that is not deleted, with or
// without a version yet (a pending Unknown-issuer certificate has none).
func (s *Service) certHead(ctx context.Context, v Vault, name string) (head, error) {
	var h head
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, err = s.certHeadTx(ctx, tx, v, name)
		return err
	})
	return h, err
}

func (s *Service) certHeadTx(ctx context.Context, tx sealedTx, v Vault, name string) (head, error) {
	h, err := getHead(ctx, tx, v, kindCert, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && (h.Deleted != nil || h.CertPolicy == nil) {
		return head{}, notFound(kindCert, name)
	}
	return h, err
}

func pendingNotFound(name string) error {
	return &Error{Status: 404, Code: "PendingCertificateNotFound", Message: fmt.Sprintf("Pending certificate not found: %s", name)}
}

// GetCertificateOperation reads a certificate's pending (or last)
// operation.
func (s *Service) GetCertificateOperation(ctx context.Context, v Vault, name string) (CertificateOperation, error) {
	h, err := s.certHead(ctx, v, name)
	if err != nil {
		return CertificateOperation{}, err
	}
	if h.Pending == nil {
		return CertificateOperation{}, pendingNotFound(name)
	}
	op := h.Pending.Op
	op.ID = v.objectID(kindCert, h.Name, "pending")
	return op, nil
}

// CancelCertificateOperation requests cancellation of a pending
// operation; an operation still waiting for its merge is cancelled at once.
func (s *Service) CancelCertificateOperation(ctx context.Context, v Vault, name string, cancel bool) (CertificateOperation, error) {
	var op CertificateOperation
	err := s.update(ctx, func(tx sealedTx) error {
		h, err := s.certHeadTx(ctx, tx, v, name)
		if err != nil {
			return err
		}
		if h.Pending == nil {
			return pendingNotFound(name)
		}
		if cancel && h.Pending.Op.Status == "inProgress" {
			h.Pending.Op.CancellationRequested = true
			h.Pending.Op.Status = "cancelled"
			h.Pending.Op.StatusDetails = "Certificate request was cancelled."
			h.Pending.Private = nil
		}
		op = h.Pending.Op
		return putHead(ctx, tx, v, kindCert, h)
	})
	op.ID = v.objectID(kindCert, name, "pending")
	return op, err
}

// DeleteCertificateOperation removes a certificate's pending operation; a
// certificate that never got a version goes with it.
func (s *Service) DeleteCertificateOperation(ctx context.Context, v Vault, name string) (CertificateOperation, error) {
	var op CertificateOperation
	err := s.update(ctx, func(tx sealedTx) error {
		h, err := s.certHeadTx(ctx, tx, v, name)
		if err != nil {
			return err
		}
		if h.Pending == nil {
			return pendingNotFound(name)
		}
		op = h.Pending.Op
		if h.Current == "" {
			return tx.Delete(ctx, tableObjects, objKey(v, kindCert, name), store.Cond{})
		}
		h.Pending = nil
		return putHead(ctx, tx, v, kindCert, h)
	})
	op.ID = v.objectID(kindCert, name, "pending")
	return op, err
}

// ListCertificates returns a page of the certificates that are not deleted
// (with includePending, also those still waiting for a merge).
func (s *Service) ListCertificates(ctx context.Context, v Vault, after string, limit int) ([]CertificateItem, string, error) {
	var items []CertificateItem
	next, err := s.eachCurrent(ctx, v, kindCert, after, limit, func(h head, ver version) {
		items = append(items, certItem(v, h, ver, ""))
	})
	return items, next, err
}

// ListCertificateVersions returns a page of a certificate's versions.
func (s *Service) ListCertificateVersions(ctx context.Context, v Vault, name, after string, limit int) ([]CertificateItem, string, error) {
	var items []CertificateItem
	var next string
	err := s.view(ctx, func(tx sealedTx) error {
		vers, n, err := listVersions(ctx, tx, v, kindCert, name, after, limit)
		h, _ := getHead(ctx, tx, v, kindCert, name)
		for _, ver := range vers {
			items = append(items, certItem(v, h, ver, ver.Version))
		}
		next = n
		return err
	})
	return items, next, err
}

// DeleteCertificate moves a certificate, with its key and secret, to the
// deleted state.
func (s *Service) DeleteCertificate(ctx context.Context, v Vault, name string) (DeletedCertificateBundle, error) {
	var h head
	var cur version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, cur, err = getVersion(ctx, tx, v, kindCert, name, ""); err != nil {
			return err
		}
		for _, k := range []kind{kindKey, kindSecret} {
			if _, err := s.softDelete(ctx, tx, v, k, name); err != nil && !isNotFound(err) {
				return err
			}
		}
		h, err = s.softDelete(ctx, tx, v, kindCert, name)
		return err
	})
	if err != nil {
		return DeletedCertificateBundle{}, err
	}
	return DeletedCertificateBundle{CertificateBundle: certBundle(v, h, cur, true), Deleted: v.deletedInfo(kindCert, h)}, nil
}

func isNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == 404
}

// GetDeletedCertificate reads a deleted certificate.
func (s *Service) GetDeletedCertificate(ctx context.Context, v Vault, name string) (DeletedCertificateBundle, error) {
	h, cur, err := s.deletedCurrent(ctx, v, kindCert, name)
	if err != nil {
		return DeletedCertificateBundle{}, err
	}
	return DeletedCertificateBundle{CertificateBundle: certBundle(v, h, cur, true), Deleted: v.deletedInfo(kindCert, h)}, nil
}

// ListDeletedCertificates returns a page of deleted certificates.
func (s *Service) ListDeletedCertificates(ctx context.Context, v Vault, after string, limit int) ([]DeletedCertificateItem, string, error) {
	var items []DeletedCertificateItem
	next, err := s.eachDeleted(ctx, v, kindCert, after, limit, func(h head, ver version) {
		items = append(items, DeletedCertificateItem{CertificateItem: certItem(v, h, ver, ""), Deleted: v.deletedInfo(kindCert, h)})
	})
	return items, next, err
}

// RecoverDeletedCertificate brings a deleted certificate back with its key
// and secret.
func (s *Service) RecoverDeletedCertificate(ctx context.Context, v Vault, name string) (CertificateBundle, error) {
	var h head
	var cur version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, err = recoverDeleted(ctx, tx, v, kindCert, name); err != nil {
			return err
		}
		for _, k := range []kind{kindKey, kindSecret} {
			if _, err := recoverDeleted(ctx, tx, v, k, name); err != nil && !isNotFound(err) {
				return err
			}
		}
		cur, err = getJSON[version](ctx, tx, tableVersions, verKey(v, kindCert, name, h.Current))
		return err
	})
	if err != nil {
		return CertificateBundle{}, err
	}
	return certBundle(v, h, cur, true), nil
}

// PurgeDeletedCertificate removes a deleted certificate, its key and its
// secret for good.
func (s *Service) PurgeDeletedCertificate(ctx context.Context, v Vault, name string) error {
	return s.update(ctx, func(tx sealedTx) error {
		if err := s.purgeDeleted(ctx, tx, v, kindCert, name); err != nil {
			return err
		}
		for _, k := range []kind{kindKey, kindSecret} {
			if err := s.purgeDeleted(ctx, tx, v, k, name); err != nil && !isNotFound(err) {
				return err
			}
		}
		return nil
	})
}
