package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// SQLite settings. WAL lets readers run beside the single writer;
// synchronous=FULL fsyncs the WAL on every commit, so an acknowledged
// commit survives a power loss as well as a killed process; the writer
// keeps up to 64 MiB of pages (the default is 2 MiB), which a first
// compliance scan of 100,000 resources otherwise re-reads, and leaves the
// log's checkpoints to a connection of its own (checkpoint.go)
// (docs/decisions/store.md).
const (
	sqliteBusyTimeoutMS    = 10000
	sqliteWriteParams      = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(16000)&_txlock=immediate"
	sqliteCheckpointParams = "_pragma=busy_timeout(10000)"
	sqliteReadParams       = "_pragma=busy_timeout(10000)&_pragma=query_only(1)"
)

// openSQLite opens the database file at path: one writer connection
// (BEGIN IMMEDIATE, so a write transaction never has to upgrade its lock)
// and a pool of query-only readers.
func openSQLite(ctx context.Context, path string, o options) (Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("%w: SQLite path %q must be non-empty and free of '?' and '#'", ErrInvalid, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// The store holds secrets (credential hashes, vault items): create the
	// file owner-only. SQLite gives its -wal and -shm files the mode of the
	// database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	write, err := sql.Open("sqlite", path+"?"+sqliteWriteParams)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := pingSQLite(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", path+"?"+sqliteReadParams)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	ckpt, err := sql.Open("sqlite", path+"?"+sqliteCheckpointParams)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	s := &sqlStore{
		dialect:   SQLite,
		write:     write,
		read:      read,
		ckpt:      newCheckpointer(ckpt),
		o:         o,
		q:         newQueries(SQLite),
		retryable: sqliteBusy,
		locker:    newMemLocker(),
		notify:    newNotifier(),
	}
	if o.noMigrate {
		return s, nil
	}
	if err := s.migrate(ctx, storeMigrations); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// pingSQLite opens the writer connection. Its pragmas run as it opens, and
// switching a new file to WAL while another process (a replica starting
// beside this one) does the same fails with SQLITE_BUSY at once, without
// the busy handler: the open is tried again, within the busy timeout.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeoutMS * time.Millisecond)
	for {
		err := db.PingContext(ctx)
		if err == nil || !sqliteBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// sqliteBusy reports SQLITE_BUSY and SQLITE_LOCKED (primary codes 5 and 6),
// which another process holding the file lock past the busy timeout causes.
func sqliteBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code() & 0xff
	return c == 5 || c == 6
}
