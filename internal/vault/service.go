package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/store"
)

// Tables of the vault; every value in them is sealed.
const (
	tableVaults   = "vault.vaults"
	tableObjects  = "vault.objects"
	tableVersions = "vault.versions"
)

// Options configure a Service. Zero fields take defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the randomness for keys, nonces and versions (default
	// crypto/rand).
	Rand io.Reader
	// Logger receives failures; never values or keys (default: discard).
	Logger *slog.Logger
	// KeyCacheSize bounds the number of unsealed private keys kept in
	// memory for signing (default 256; negative disables the cache).
	KeyCacheSize int
}

// Service is the vault: vaults, and the secrets, keys and certificates in
// them, stored through a Sealer. It is safe for concurrent use, and
// replicas sharing a store see one state.
type Service struct {
	st     store.Store
	seal   *seal.Sealer
	now    func() time.Time
	rand   io.Reader
	log    *slog.Logger
	cache  *keyCache
	vaults vaultCache
	opKeys opKeyCache
}

// NewService returns a vault service over st, sealing values with sealer.
func NewService(st store.Store, sealer *seal.Sealer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.KeyCacheSize == 0 {
		opts.KeyCacheSize = 256
	}
	return &Service{st: st, seal: sealer, now: opts.Now, rand: opts.Rand, log: opts.Logger, cache: newKeyCache(opts.KeyCacheSize)}
}

// Vault is one key vault: a name (its DNS label), the tenant whose tokens
// it accepts, and its ARM resource ID, the scope of its role assignments.
type Vault struct {
	Name       string `json:"name"`
	TenantID   string `json:"tenantId"`
	ResourceID string `json:"resourceId"`
	// RetentionDays is how long deleted objects stay recoverable (7 to
	// 90, default 90).
	RetentionDays int `json:"softDeleteRetentionInDays,omitempty"`
	// PurgeProtection forbids purging before the retention ends.
	PurgeProtection bool      `json:"enablePurgeProtection,omitempty"`
	Created         time.Time `json:"created"`
	// URL is the base URL object IDs are made from (no trailing slash),
	// set per request from the URL the caller used; not stored.
	URL string `json:"-"`
}

// ErrVaultNotFound is returned for an unknown vault name.
var ErrVaultNotFound = errors.New("vault: no such vault")

// validVaultName reports whether s is a vault name: 3 to 24 of
// [0-9a-zA-Z-], starting with a letter, not ending with or doubling a
// hyphen.
func validVaultName(s string) bool {
	if len(s) < 3 || len(s) > 24 || !validName(s) || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	return !strings.HasSuffix(s, "-") && !strings.Contains(s, "--")
}

// PutVault creates or updates a vault (the ARM resource hook calls it).
func (s *Service) PutVault(ctx context.Context, v Vault) (Vault, error) {
	if !validVaultName(v.Name) {
		return Vault{}, badParameter("The vault name %q is invalid: use 3 to 24 letters, digits and hyphens, starting with a letter.", v.Name)
	}
	if v.RetentionDays == 0 {
		v.RetentionDays = 90
	}
	if v.RetentionDays < 7 || v.RetentionDays > 90 {
		return Vault{}, badParameter("softDeleteRetentionInDays must be between 7 and 90.")
	}
	err := s.update(ctx, func(tx sealedTx) error {
		if old, err := getJSON[Vault](ctx, tx, tableVaults, strings.ToLower(v.Name)); err == nil {
			v.Created = old.Created
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		} else {
			v.Created = s.now().UTC()
		}
		return putJSON(ctx, tx, tableVaults, strings.ToLower(v.Name), v)
	})
	s.vaults.drop(v.Name)
	return v, err
}

// GetVault reads a vault by name (case-insensitive). Records are cached
// for a few seconds (see vaultCacheTTL).
func (s *Service) GetVault(ctx context.Context, name string) (Vault, error) {
	now := s.now()
	if v, ok := s.vaults.get(name, now); ok {
		return v, nil
	}
	var v Vault
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		v, err = getJSON[Vault](ctx, tx, tableVaults, strings.ToLower(name))
		if errors.Is(err, store.ErrNotFound) {
			return ErrVaultNotFound
		}
		return err
	})
	if err == nil {
		s.vaults.put(v, now)
	}
	return v, err
}

// DeleteVault removes a vault and everything in it.
func (s *Service) DeleteVault(ctx context.Context, name string) error {
	lname := strings.ToLower(name)
	defer s.vaults.drop(name)
	return s.update(ctx, func(tx sealedTx) error {
		if err := tx.Delete(ctx, tableVaults, lname, store.Cond{}); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrVaultNotFound
			}
			return err
		}
		for _, table := range []string{tableObjects, tableVersions} {
			if err := deletePrefix(ctx, tx, table, lname+"/"); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListVaults returns all vaults.
func (s *Service) ListVaults(ctx context.Context) ([]Vault, error) {
	var out []Vault
	err := s.view(ctx, func(tx sealedTx) error {
		q := store.Query{Limit: store.MaxPageSize}
		for {
			p, err := tx.Scan(ctx, tableVaults, q)
			if err != nil {
				return err
			}
			for _, r := range p.Records {
				var v Vault
				if err := json.Unmarshal(r.Value, &v); err != nil {
					return err
				}
				out = append(out, v)
			}
			if p.Next == "" {
				return nil
			}
			q.After = p.Next
		}
	})
	return out, err
}

func deletePrefix(ctx context.Context, tx sealedTx, table, prefix string) error {
	for {
		p, err := tx.Scan(ctx, table, store.Query{Prefix: prefix, KeysOnly: true, Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, r := range p.Records {
			if err := tx.Delete(ctx, table, r.Key, store.Cond{}); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
	}
}

// sealedTx is the transaction every vault operation runs in: values are
// sealed on the way in and opened on the way out.
type sealedTx = seal.Tx

func (s *Service) update(ctx context.Context, fn func(tx sealedTx) error) error {
	s.opKeys.invalidate()
	defer s.opKeys.invalidate()
	return s.st.Update(ctx, func(tx store.Tx) error { return fn(sealedTx{Tx: tx, S: s.seal}) })
}

func (s *Service) view(ctx context.Context, fn func(tx sealedTx) error) error {
	return s.st.View(ctx, func(tx store.Tx) error { return fn(sealedTx{Tx: tx, S: s.seal}) })
}

func getJSON[T any](ctx context.Context, tx sealedTx, table, key string) (T, error) {
	var v T
	r, err := tx.Get(ctx, table, key)
	if err != nil {
		return v, err
	}
	defer clear(r.Value)
	if err := json.Unmarshal(r.Value, &v); err != nil {
		return v, fmt.Errorf("vault: %s/%s: %w", table, key, err)
	}
	return v, nil
}

func putJSON(ctx context.Context, tx sealedTx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	defer clear(b)
	_, err = tx.Put(ctx, table, key, b, store.Cond{})
	return err
}

// newVersion returns a 32-hex object version, as Key Vault's.
func (s *Service) newVersion() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func (s *Service) unix() int64 { return s.now().Unix() }
