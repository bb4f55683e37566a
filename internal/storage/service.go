package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Options configure a Service.
type Options struct {
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// Rand is the randomness of new keys (default crypto/rand).
	Rand io.Reader
	// Logger receives the service's diagnostics; never keys or signatures
	// (default: discarded).
	Logger *slog.Logger
}

// Service is the Table service of every storage account: the accounts'
// keys and their tables and entities. It is safe for concurrent use, and
// replicas sharing one PostgreSQL store serve the same data.
type Service struct {
	st   store.Store
	acc  *accounts
	data *data
	now  func() time.Time
	log  *slog.Logger
}

// New opens the Table service on st, creating its SQL tables when
// missing. Keys are sealed with sealer.
func New(ctx context.Context, st store.Store, sealer Sealer, opts Options) (*Service, error) {
	if st == nil || sealer == nil {
		return nil, errors.New("storage: a store and a sealer are required")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = defaultRand
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := st.Migrate(ctx, migrations); err != nil {
		return nil, fmt.Errorf("storage: schema: %w", err)
	}
	return &Service{st: st, now: opts.Clock, log: opts.Logger,
		acc:  &accounts{st: st, sealer: sealer, rnd: opts.Rand, now: opts.Clock},
		data: &data{st: st, d: st.Raw().Dialect, now: opts.Clock}}, nil
}

// EnsureAccount registers an account with the data plane (creating its
// two keys) or updates its settings. It fails with ErrAccountTaken when
// the name belongs to another resource.
func (s *Service) EnsureAccount(ctx context.Context, name string, set Settings) (created bool, err error) {
	return s.acc.ensure(ctx, name, set)
}

// Account returns an account with its keys. Callers must not log them.
func (s *Service) Account(ctx context.Context, name string) (Account, error) {
	return s.acc.get(ctx, name)
}

// RegenerateKey replaces key1 or key2 with a fresh key; what the old key
// signed stops working at once.
func (s *Service) RegenerateKey(ctx context.Context, name, keyName string) (Account, error) {
	if err := s.acc.regenerate(ctx, name, keyName); err != nil {
		return Account{}, err
	}
	return s.acc.get(ctx, name)
}

// DeleteAccount forgets an account with its tables and entities.
func (s *Service) DeleteAccount(ctx context.Context, name string) error {
	if err := s.acc.remove(ctx, name); err != nil {
		return err
	}
	return s.data.deleteAccount(ctx, name)
}

// keyValue returns the value of the named key of an account.
func (a Account) keyValue(keyName string) (string, bool) {
	for _, k := range a.Keys {
		if k.Name == keyName {
			return k.Value, true
		}
	}
	return "", false
}

// SignService signs a service SAS with the named key of the account.
func (s *Service) SignService(ctx context.Context, account, keyName string, sas ServiceSAS) (string, error) {
	a, err := s.acc.get(ctx, account)
	if err != nil {
		return "", err
	}
	k, ok := a.keyValue(keyName)
	if !ok {
		return "", fmt.Errorf("storage: no key named %q", keyName)
	}
	return sas.Sign(a.Name, k)
}

// SignAccount signs an account SAS with the named key of the account.
func (s *Service) SignAccount(ctx context.Context, account, keyName string, sas AccountSAS) (string, error) {
	a, err := s.acc.get(ctx, account)
	if err != nil {
		return "", err
	}
	k, ok := a.keyValue(keyName)
	if !ok {
		return "", fmt.Errorf("storage: no key named %q", keyName)
	}
	return sas.Sign(a.Name, k)
}
