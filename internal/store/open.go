package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Option configures Open.
type Option func(*options)

type options struct {
	now        func() time.Time
	maxRetries int
	noMigrate  bool
}

// WithClock sets the clock used for record timestamps and lease deadlines
// (default time.Now). Tests inject a fake one.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMaxRetries sets how many times Update re-runs a transaction that hit a
// serialization conflict (default 30).
func WithMaxRetries(n int) Option { return func(o *options) { o.maxRetries = n } }

// Open opens (creating if needed) the store at url and applies the store's
// own migrations. The scheme picks the backend:
//
//   - "postgres://..." or "postgresql://...": PostgreSQL through pgx. A
//     search_path query parameter selects the schema.
//   - "sqlite:PATH" or "sqlite://PATH", or a plain file path: SQLite, one
//     file at PATH (its -wal and -shm files beside it).
func Open(ctx context.Context, url string, opts ...Option) (Store, error) {
	o := options{now: time.Now, maxRetries: 30}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return openPostgres(ctx, url, o)
	case strings.HasPrefix(url, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(url, "sqlite://"), o)
	case strings.HasPrefix(url, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"), o)
	case url == "":
		return nil, fmt.Errorf("%w: empty store URL", ErrInvalid)
	case strings.Contains(url, "://"):
		return nil, fmt.Errorf("%w: unknown store URL scheme in %q (want sqlite: or postgres://)", ErrInvalid, url)
	default:
		return openSQLite(ctx, url, o)
	}
}
