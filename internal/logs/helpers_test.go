package logs

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// backends opens a throwaway store per backend; PostgreSQL is skipped when
// no server is reachable.
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store { return storetest.SQLite(t) }},
	{"postgres", func(t testing.TB) store.Store { return storetest.Postgres(t) }},
}

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// rowTexts renders a result's rows in their order.
func rowTexts(r *kql.Result) []string {
	out := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		parts := make([]string, len(row))
		for j, v := range row {
			parts[j] = v.Text()
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

// resultText renders a result's rows as sorted text lines, so results of
// different sources compare without regard to row order.
func resultText(r *kql.Result) []string {
	out := rowTexts(r)
	sort.Strings(out)
	return out
}

func runQuery(t *testing.T, src kql.Source, q string) *kql.Result {
	t.Helper()
	res, err := kql.Run(context.Background(), q, kql.Options{Source: src, Now: clock})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}
