package logs

import (
	"context"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
)

func TestPurgeAppliesTableRetention(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s := newTestService(t, be.open(t))
			ctx := context.Background()
			cols := []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "n", Type: kql.TypeLong}}
			var rs []kql.Row
			for d := range 100 {
				rs = append(rs, kql.Row{kql.DateTime(Ticks(fixedNow.Add(-time.Duration(d)*24*time.Hour - time.Hour))), kql.Long(int64(d))})
			}
			// Short keeps the workspace default (30 days), Long sets 90.
			for _, tab := range []struct {
				name string
				days int
			}{{"Short_CL", 0}, {"Long_CL", 90}} {
				if _, err := s.Rows.DefineTable(ctx, testCustomerID, tab.name, cols, tab.days); err != nil {
					t.Fatal(err)
				}
				if err := s.Rows.Append(ctx, testCustomerID, tab.name, cols, rs, Fixed); err != nil {
					t.Fatal(err)
				}
			}
			n, err := s.PurgeExpired(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 70+10 {
				t.Errorf("purged %d rows, want 80", n)
			}
			src := s.Rows.Source(testCustomerID, Window{})
			for tab, want := range map[string]int64{"Short_CL": 30, "Long_CL": 90} {
				if got := runQuery(t, src, tab+" | count").Rows[0][0].AsInt(); got != want {
					t.Errorf("%s keeps %d rows, want %d", tab, got, want)
				}
			}
		})
	}
}
