package logs

import (
	"context"
	"fmt"
	"time"
)

// DefaultRetentionDays is the retention of a table that sets none, Log
// Analytics' default for a workspace.
const DefaultRetentionDays = 30

// Purge deletes, in every table of the workspaces listed, the rows whose
// TimeGenerated is older than the table's retention, and returns how many
// rows it deleted. Retention is per table (Table.RetentionDays), with
// defaultDays for tables that set none (DefaultRetentionDays when 0).
func (r *Rows) Purge(ctx context.Context, workspaces []string, defaultDays int) (int64, error) {
	if defaultDays <= 0 {
		defaultDays = DefaultRetentionDays
	}
	now := r.now()
	var total int64
	for _, ws := range workspaces {
		tables, err := r.ListTables(ctx, ws)
		if err != nil {
			return total, err
		}
		for _, t := range tables {
			days := t.RetentionDays
			if days <= 0 {
				days = defaultDays
			}
			cutoff := Ticks(now.Add(-time.Duration(days) * 24 * time.Hour))
			if r.partitioned() {
				// Whole days go with their partition; the rest of the
				// day the cutoff falls in is deleted below.
				n, err := r.dropPartitions(ctx, t, cutoff)
				total += n
				if err != nil {
					return total, fmt.Errorf("purge %s: %w", t.Name, err)
				}
			}
			res, err := r.raw.Write.ExecContext(ctx, r.raw.Dialect.Rebind("DELETE FROM "+t.SQLName+" WHERE c0 < ?"), cutoff)
			if err != nil {
				return total, fmt.Errorf("purge %s: %w", t.Name, err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
	}
	return total, nil
}

// PurgeInterval is how often ingestion triggers a retention purge.
const PurgeInterval = time.Hour

// PurgeExpired applies retention to every workspace: each table keeps its
// own retention, or the workspace's.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	wss, err := s.Workspaces(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, ws := range wss {
		n, err := s.Rows.Purge(ctx, []string{ws.CustomerID}, ws.RetentionInDays)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// maybePurge starts a background purge when the last one is older than
// PurgeInterval, so retention needs no scheduler of its own.
func (s *Service) maybePurge(ctx context.Context) {
	now := s.opts.Now()
	s.purgeMu.Lock()
	due := now.Sub(s.lastPurge) >= PurgeInterval
	if due {
		s.lastPurge = now
	}
	s.purgeMu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		_, _ = s.PurgeExpired(ctx)
	}()
}
