// Package store is Steward's transactional storage: named tables of records
// with ordered string keys, opaque values, etags for optimistic concurrency,
// prefix and range scans with continuation tokens, leases for work
// distribution and named locks. Two backends implement it, SQLite (embedded,
// a single file in the data directory) and PostgreSQL (shared by replicas);
// [Open] picks one from a URL, and the storetest sub-package holds the
// conformance suite that both pass.
//
// Packages that need typed SQL tables of their own (the logs engine) declare
// them as a [MigrationSet] and reach the database through [Store.Raw] or
// [Tx.SQL]; that escape hatch is the only place where SQL dialects leak out.
//
// The package imports no other Steward package.
package store

import (
	"context"
	"database/sql"
	"time"
)

// Store is a transactional record store.
//
// Concurrency contract:
//
//   - A Store is safe for concurrent use by any number of goroutines, and (on
//     PostgreSQL) by any number of processes sharing the database. An SQLite
//     file belongs to one process at a time; a second process may open it, but
//     writers then wait on each other through SQLite's file lock.
//   - View runs fn in a read-only transaction that sees one consistent
//     snapshot of the store, unaffected by writes that commit while it runs.
//     Views never block each other or writers.
//   - Update runs fn in a read-write transaction. Update transactions are
//     serializable: the result is as if they ran one after another. When the
//     backend detects a serialization conflict (PostgreSQL SQLSTATE 40001 or
//     40P01, SQLite busy), Update rolls back and calls fn again, a bounded
//     number of times, with a short backoff; fn must therefore have no effects
//     outside the transaction that it cannot repeat. When the conflicts
//     persist Update returns an error matching [ErrConflict].
//   - If fn returns an error, or panics, the transaction rolls back and none
//     of its writes are visible to anyone; the error (or panic) is passed on.
//     If fn returns nil the transaction commits; once Update has returned nil
//     the writes are durable (they survive a kill -9 of the process, and, on
//     SQLite, a power loss, see docs/decisions/store.md).
//   - A Tx must not be used after fn returns, nor from goroutines other than
//     the one running fn while fn is running. fn must not call Update
//     (directly or through another goroutine it waits for): SQLite has a
//     single writer, so a nested Update waits forever. A View inside an
//     Update is fine and, like any other transaction, does not see the
//     Update's uncommitted writes.
//   - Cancelling ctx aborts the transaction: the next Tx call (or the commit)
//     fails with an error matching ctx.Err(), and nothing is written.
//   - Leases ([Store.Acquire]) and locks ([Store.Lock]) run in transactions of
//     their own and coordinate all processes sharing the database.
type Store interface {
	// View runs fn in a read-only transaction. Writes through tx fail with
	// ErrReadOnly.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction, retried on serialization
	// conflicts as the contract above says.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// Acquire leases up to limit records of table whose key starts with
	// prefix and that no one holds (or whose lease has expired), for owner,
	// until now+ttl. Records are taken in key order, skipping those that
	// other transactions are leasing at the same moment (PostgreSQL FOR UPDATE
	// SKIP LOCKED; on SQLite the single writer makes this trivial).
	Acquire(ctx context.Context, table, prefix, owner string, ttl time.Duration, limit int) ([]Lease, error)
	// Renew extends a lease that owner holds to now+ttl. It fails with
	// ErrLeaseLost when the lease has expired and someone else took it, or
	// when the record is gone.
	Renew(ctx context.Context, table, key, owner string, ttl time.Duration) (Lease, error)
	// Release gives a lease up. Releasing a lease that owner no longer holds
	// fails with ErrLeaseLost.
	Release(ctx context.Context, table, key, owner string) error
	// ReleaseAll gives up every lease owner holds, in every table, and
	// reports how many: a replica shutting down hands its work back so
	// that the others take it at once instead of after the leases expire.
	ReleaseAll(ctx context.Context, owner string) (int, error)
	// QueueStats counts the records of table under prefix: all, leased
	// now, and leases expired without release (see QueueStats). It reads
	// outside any transaction, for metrics.
	QueueStats(ctx context.Context, table, prefix string) (QueueStats, error)

	// Lock blocks until it holds the named lock (PostgreSQL advisory lock,
	// polled while another process holds it; an in-process lock on SQLite)
	// or ctx is done. Holders in one process exclude each other too.
	Lock(ctx context.Context, name string) (Lock, error)
	// TryLock takes the named lock if it is free and reports whether it did.
	TryLock(ctx context.Context, name string) (Lock, bool, error)

	// Subscribe returns a channel that receives a signal after every commit
	// of a transaction that called Tx.Notify(channel), in this process or
	// in any other sharing the database, and a function that ends the
	// subscription. Signals coalesce and carry no data (see notify.go):
	// the subscriber re-reads what it caches. On PostgreSQL the first
	// Subscribe opens a LISTEN session that holds one connection.
	Subscribe(channel string) (<-chan struct{}, func(), error)
	// SubscribeNotes is Subscribe that also keeps what each commit said:
	// the payloads given to Tx.NotifyPayload (see Notes).
	SubscribeNotes(channel string) (*Notes, error)

	// Migrate applies the migrations of set that have not been applied yet,
	// in version order, each in its own transaction, recording them in the
	// steward_migrations table. It is idempotent and safe when several
	// processes call it at once: they serialize on a lock.
	Migrate(ctx context.Context, set MigrationSet) error
	// Raw is the escape hatch to the database underneath, for packages that
	// keep typed SQL tables of their own. See [Raw].
	Raw() Raw

	// Close releases the store's connections. Transactions in flight fail.
	Close() error
}

// Tx is a transaction on a Store, valid only inside the fn given to
// View or Update.
//
// Tables are namespaces of keys; they need no declaration. Table names are
// 1 to 64 characters of [a-z0-9_.-]; keys are 1 to 1024 bytes of valid UTF-8
// without NUL, ordered bytewise (so "a/b" sorts before "a/c" and before "b";
// callers that want case-insensitive keys, as ARM IDs are, fold case before
// storing and keep the original spelling in the value). Values may be empty
// and up to 64 MiB. Invalid names fail with ErrInvalid.
type Tx interface {
	// Get returns the record at key, or an error matching ErrNotFound.
	Get(ctx context.Context, table, key string) (Record, error)
	// Put writes value at key when cond holds and returns the stored record
	// with its new etag. A failed condition returns ErrExists (IfAbsent on a
	// present key) or ErrPrecondition (IfMatch with another etag, or on a
	// missing key).
	Put(ctx context.Context, table, key string, value []byte, cond Cond) (Record, error)
	// Delete removes key when cond holds. Deleting a missing key returns
	// ErrNotFound (or ErrPrecondition when cond has an IfMatch).
	Delete(ctx context.Context, table, key string, cond Cond) error
	// Scan returns one page of the records of table selected by q, in
	// ascending key order.
	Scan(ctx context.Context, table string, q Query) (Page, error)
	// Notify signals the subscribers of channel (Store.Subscribe) once this
	// transaction commits; a rollback signals no one. Channels are 1 to 64
	// bytes of text; naming one twice in a transaction signals once.
	Notify(ctx context.Context, channel string) error
	// NotifyPayload is Notify with a payload (up to MaxNotePayload bytes
	// of text) that subscribers of SubscribeNotes receive, once per commit
	// for each distinct payload; Subscribe's subscribers get a signal as
	// for Notify. An empty payload is Notify.
	NotifyPayload(ctx context.Context, channel, payload string) error
	// SQL is the transaction underneath, for typed tables declared with
	// Migrate; statements on it commit or roll back with this Tx. Use
	// Raw().Dialect to write SQL that both backends accept.
	SQL() *sql.Tx
}

// Record is one stored value with its metadata.
type Record struct {
	// Table and Key locate the record.
	Table, Key string
	// Value is the stored bytes, as the caller gave them.
	Value []byte
	// ETag changes on every write of the record, including a delete followed
	// by a re-create; compare it only for equality.
	ETag string
	// Created is when the record was first written, Updated when it was
	// last written (both from the store's clock, UTC).
	Created, Updated time.Time
}

// Cond is the precondition of a write. The zero Cond writes unconditionally.
type Cond struct {
	// IfMatch, when set, requires the record to exist with this etag.
	IfMatch string
	// IfAbsent requires the record not to exist (create only).
	IfAbsent bool
}

// IfMatch is the condition "the record exists with this etag".
func IfMatch(etag string) Cond { return Cond{IfMatch: etag} }

// IfAbsent is the condition "the record does not exist".
func IfAbsent() Cond { return Cond{IfAbsent: true} }

// Query selects records for Scan. The zero Query selects the whole table in
// pages of DefaultPageSize.
type Query struct {
	// Prefix keeps the keys that start with it.
	Prefix string
	// Start (inclusive) and End (exclusive) bound the keys; empty means
	// unbounded.
	Start, End string
	// Limit is the page size: 0 means DefaultPageSize, values above
	// MaxPageSize are lowered to it.
	Limit int
	// After is the continuation token of the previous page (Page.Next); the
	// scan resumes after the last key that page returned.
	After string
	// KeysOnly leaves Value nil in the returned records.
	KeysOnly bool
}

// Page sizes for Scan.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Page is one page of a scan.
type Page struct {
	// Records are in ascending key order.
	Records []Record
	// Next is the continuation token for the following page, or "" when
	// this page is the last.
	Next string
}

// Lease is a record leased to an owner until a deadline.
type Lease struct {
	Record
	// Owner holds the lease until Until.
	Owner string
	Until time.Time
}

// Lock is a held named lock.
type Lock interface {
	// Release gives the lock up. It is safe to call more than once.
	Release(ctx context.Context) error
	// Lost is closed when the lock can no longer be vouched for: on
	// PostgreSQL, the database session that held it failed (a health check
	// runs every few seconds while locks are held), so another process may
	// now hold it. A holder doing long work under the lock watches it.
	// In-process locks are never lost (the channel is never closed).
	Lost() <-chan struct{}
}

// Dialect names the SQL dialect of a backend.
type Dialect string

// The dialects of the two backends.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Raw is the database underneath a Store, for typed tables declared through
// Migrate. Queries written with "?" placeholders run on both backends after
// Dialect.Rebind. Writers must go through Write (on SQLite the single writer
// connection; a write on Read fails there because those connections are
// query-only); bulk reads may use Read.
type Raw struct {
	Dialect Dialect
	// Write is the pool for statements that write (on SQLite, one
	// connection); Read is a pool for reads. On PostgreSQL they are the same.
	Write, Read *sql.DB
	// Schema is the PostgreSQL schema the store lives in ("" on SQLite).
	Schema string
}
