package vault

import (
	"context"
	"errors"

	"github.com/steward-gov/steward/internal/store"
)

// eachCurrent calls fn with the current version of every live object of a
// kind in one page of heads.
func (s *Service) eachCurrent(ctx context.Context, v Vault, k kind, after string, limit int, fn func(head, version)) (string, error) {
	return s.eachHead(ctx, v, k, after, limit, false, fn)
}

// eachDeleted calls fn with the current version of every deleted object of
// a kind in one page of heads.
func (s *Service) eachDeleted(ctx context.Context, v Vault, k kind, after string, limit int, fn func(head, version)) (string, error) {
	return s.eachHead(ctx, v, k, after, limit, true, fn)
}

func (s *Service) eachHead(ctx context.Context, v Vault, k kind, after string, limit int, deleted bool, fn func(head, version)) (string, error) {
	var next string
	err := s.view(ctx, func(tx sealedTx) error {
		heads, n, err := listHeads(ctx, tx, v, k, after, limit)
		if err != nil {
			return err
		}
		next = n
		for _, h := range heads {
			if (h.Deleted != nil) != deleted || h.Current == "" {
				continue
			}
			ver, err := getJSON[version](ctx, tx, tableVersions, verKey(v, k, h.Name, h.Current))
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			fn(h, ver)
		}
		return nil
	})
	return next, err
}

// deletedCurrent reads a deleted object's head and current version.
func (s *Service) deletedCurrent(ctx context.Context, v Vault, k kind, name string) (head, version, error) {
	var h head
	var ver version
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		if h, err = deletedHead(ctx, tx, v, k, name); err != nil {
			return err
		}
		ver, err = getJSON[version](ctx, tx, tableVersions, verKey(v, k, name, h.Current))
		return err
	})
	return h, ver, err
}

// recoverObject recovers a deleted object; a managed one (a certificate's
// key or secret) cannot be recovered on its own.
func (s *Service) recoverObject(ctx context.Context, v Vault, k kind, name string) (head, version, error) {
	var h head
	var ver version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, err = deletedHead(ctx, tx, v, k, name); err != nil {
			return err
		}
		if h.Managed {
			return forbiddenOp("Recover operation is not allowed on an object backing a certificate; recover the certificate instead.")
		}
		if h, err = recoverDeleted(ctx, tx, v, k, name); err != nil {
			return err
		}
		ver, err = getJSON[version](ctx, tx, tableVersions, verKey(v, k, name, h.Current))
		return err
	})
	return h, ver, err
}

// purgeObject purges a deleted object that is not managed.
func (s *Service) purgeObject(ctx context.Context, v Vault, k kind, name string) error {
	return s.update(ctx, func(tx sealedTx) error {
		h, err := deletedHead(ctx, tx, v, k, name)
		if err != nil {
			return err
		}
		if h.Managed {
			return forbiddenOp("Purge operation is not allowed on an object backing a certificate; purge the certificate instead.")
		}
		return s.purgeDeleted(ctx, tx, v, k, name)
	})
}
