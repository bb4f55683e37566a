package insights

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// tableScans holds one coverage record per scanned scope and assignment,
// keyed "{scope}|{assignmentId}" in lower case ("{scope}|" for a scan of
// every assignment): when the last scan of it that completed started.
//
// A scan does not rewrite a state whose content did not change, so the
// stored timestamp of a state is the time its content last changed. Every
// state below a scope (and of the scope's own resource) that a completed
// scan did not rewrite or remove was evaluated by it and found the same,
// so queries report a state's timestamp as the later of its stored time
// and the start of the last completed scan that covered it (coverage.at).
// Policy Insights' default window ($from = $to - 1 day) then keeps the
// states that the daily scan confirmed, as it does when every state is
// rewritten.
const tableScans = "insights.scans"

// scanRecord is the value of a coverage record.
type scanRecord struct {
	// T is the start of the scan, Unix milliseconds.
	T int64 `json:"t"`
}

// scanKey is the key of the coverage record of a scan of scope, for the
// lower-case assignment ID only or for every assignment ("").
func scanKey(scope, only string) string {
	return strings.ToLower(strings.TrimRight(scope, "/")) + "|" + only
}

// recordScan stores the coverage record of a completed scan that started
// at started.
func (e *Engine) recordScan(ctx context.Context, scope, only string, started time.Time) error {
	b, err := json.Marshal(scanRecord{T: started.UnixMilli()})
	if err != nil {
		return err
	}
	return e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableScans, scanKey(scope, only), b, store.Cond{})
		return err
	})
}

// coverage is the coverage records by lower-case scope, then by lower-case
// assignment ID ("" for scans of every assignment): Unix milliseconds.
type coverage map[string]map[string]int64

// loadCoverage reads the coverage records.
func (e *Engine) loadCoverage(ctx context.Context) (coverage, error) {
	c := coverage{}
	after := ""
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(ctx, tableScans, store.Query{Limit: store.MaxPageSize, After: after})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			i := strings.LastIndexByte(r.Key, '|')
			var v scanRecord
			if i < 0 || json.Unmarshal(r.Value, &v) != nil {
				e.log.Warn("undecodable scan record skipped", "key", r.Key)
				continue
			}
			scope, only := r.Key[:i], r.Key[i+1:]
			if c[scope] == nil {
				c[scope] = map[string]int64{}
			}
			c[scope][only] = v.T
		}
		if page.Next == "" {
			return c, nil
		}
		after = page.Next
	}
}

// at is the time a state was last confirmed, given its key: the later of
// stored (its stored timestamp) and the start of the last completed scan
// that covered it, of its resource, a scope above it, for every
// assignment or for its own.
func (c coverage) at(key string, stored time.Time) time.Time {
	if len(c) == 0 {
		return stored
	}
	i := strings.IndexByte(key, '|')
	if i < 0 {
		return stored
	}
	id, rest := key[:i], key[i+1:]
	assignment := rest
	if j := strings.IndexByte(rest, '|'); j >= 0 {
		assignment = rest[:j]
	}
	best := stored.UnixMilli()
	check := func(scope string) {
		m, ok := c[scope]
		if !ok {
			return
		}
		if t, ok := m[""]; ok && t > best {
			best = t
		}
		if t, ok := m[assignment]; ok && t > best {
			best = t
		}
	}
	for j := 1; j < len(id); j++ {
		if id[j] == '/' {
			check(id[:j])
		}
	}
	check(id)
	if best == stored.UnixMilli() {
		return stored
	}
	return time.UnixMilli(best).UTC()
}
