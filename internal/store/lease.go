package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

func checkLease(table, owner string, ttl time.Duration) error {
	if err := checkTable(table); err != nil {
		return err
	}
	if owner == "" || len(owner) > MaxKeyLen {
		return fmt.Errorf("%w: lease owner must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	}
	if err := checkText("lease owner", owner); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("%w: lease ttl must be positive", ErrInvalid)
	}
	return nil
}

// Acquire implements Store.
func (s *sqlStore) Acquire(ctx context.Context, table, prefix, owner string, ttl time.Duration, limit int) ([]Lease, error) {
	if err := checkLease(table, owner, ttl); err != nil {
		return nil, err
	}
	if err := checkText("prefix", prefix); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, fmt.Errorf("%w: lease limit must be 1 to %d", ErrInvalid, MaxPageSize)
	}
	now := s.now()
	args := []any{owner, now.Add(ttl).UnixNano(), table, now.UnixNano(), prefix}
	q := s.q.acquire[0]
	if hi := prefixEnd(prefix); hi != "" {
		q = s.q.acquire[1]
		args = append(args, hi)
	}
	args = append(args, limit)
	var leases []Lease
	err := s.exec(ctx, func(tx *sql.Tx) error {
		leases = leases[:0]
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLease(rows, table)
			if err != nil {
				return err
			}
			leases = append(leases, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: acquire %s: %w", table, err)
	}
	slices.SortFunc(leases, func(a, b Lease) int { return strings.Compare(a.Key, b.Key) })
	return leases, nil
}

// Renew implements Store.
func (s *sqlStore) Renew(ctx context.Context, table, key, owner string, ttl time.Duration) (Lease, error) {
	if err := checkLease(table, owner, ttl); err != nil {
		return Lease{}, err
	}
	if err := checkKey(key); err != nil {
		return Lease{}, err
	}
	var l Lease
	found := false
	err := s.exec(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q.renew, s.now().Add(ttl).UnixNano(), table, key, owner)
		if err != nil {
			return err
		}
		defer rows.Close()
		if found = rows.Next(); found {
			if l, err = scanLease(rows, table); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return Lease{}, fmt.Errorf("store: renew %s/%s: %w", table, key, err)
	}
	if !found {
		return Lease{}, fmt.Errorf("%w: %s/%s is not held by %s", ErrLeaseLost, table, key, owner)
	}
	return l, nil
}

// Release implements Store.
func (s *sqlStore) Release(ctx context.Context, table, key, owner string) error {
	if err := checkLease(table, owner, time.Second); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	var n int64
	err := s.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.release, table, key, owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release %s/%s: %w", table, key, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s/%s is not held by %s", ErrLeaseLost, table, key, owner)
	}
	return nil
}

func scanLease(rows *sql.Rows, table string) (Lease, error) {
	l := Lease{Record: Record{Table: table}}
	var rev, created, updated, until int64
	if err := rows.Scan(&l.Key, &l.Value, &rev, &created, &updated, &l.Owner, &until); err != nil {
		return Lease{}, err
	}
	if l.Value == nil {
		l.Value = []byte{}
	}
	setMeta(&l.Record, rev, created, updated)
	l.Until = time.Unix(0, until).UTC()
	return l, nil
}

// QueueStats describes the records of a leased table (a work queue) at one
// moment.
type QueueStats struct {
	// Depth is how many records there are; Leased how many are held now.
	Depth, Leased int64
	// Expired counts records whose lease ran out while still naming an
	// owner: work a crashed or stalled holder did not finish, waiting to
	// be taken over.
	Expired int64
	// Oldest is when the oldest record was written (zero when empty).
	Oldest time.Time
}

// QueueStats implements Store.
func (s *sqlStore) QueueStats(ctx context.Context, table, prefix string) (QueueStats, error) {
	if err := checkTable(table); err != nil {
		return QueueStats{}, err
	}
	if err := checkText("prefix", prefix); err != nil {
		return QueueStats{}, err
	}
	now := s.now().UnixNano()
	q := `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN lease_until > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN lease_owner <> '' AND lease_until <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(MIN(created), 0)
		FROM steward_records WHERE tbl = ? AND k >= ?`
	args := []any{now, now, table, prefix}
	if hi := prefixEnd(prefix); hi != "" {
		q += ` AND k < ?`
		args = append(args, hi)
	}
	var st QueueStats
	var oldest int64
	err := s.read.QueryRowContext(ctx, s.dialect.Rebind(q), args...).Scan(&st.Depth, &st.Leased, &st.Expired, &oldest)
	if err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats %s: %w", table, err)
	}
	if oldest > 0 {
		st.Oldest = time.Unix(0, oldest).UTC()
	}
	return st, nil
}

// ReleaseAll implements Store.
func (s *sqlStore) ReleaseAll(ctx context.Context, owner string) (int, error) {
	if owner == "" || len(owner) > MaxKeyLen {
		return 0, fmt.Errorf("%w: lease owner must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	}
	if err := checkText("lease owner", owner); err != nil {
		return 0, err
	}
	var n int64
	err := s.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.dialect.Rebind(`UPDATE steward_records SET lease_owner = '', lease_until = 0
			WHERE lease_owner = ?`), owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: release the leases of %s: %w", owner, err)
	}
	return int(n), nil
}
