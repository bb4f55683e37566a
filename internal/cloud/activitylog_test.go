package cloud

import (
	"testing"
	"time"
)

func TestActivityFilterReadsEventTimestampBounds(t *testing.T) {
	from := time.Date(2026, 11, 22, 7, 28, 43, 20280000, time.UTC)
	to := time.Date(2026, 11, 22, 8, 28, 43, 20280000, time.UTC)
	cases := []struct {
		name, filter string
		from, to     time.Time
	}{
		{"quoted RFC 3339", "eventTimestamp ge '2026-11-22T07:28:43.02028Z' and eventTimestamp le '2026-11-22T08:28:43.02028Z'", from, to},
		{"unquoted without a zone, as az sends it", "eventTimestamp ge 2026-11-22T07:28:43.020280 and eventTimestamp le 2026-11-22T08:28:43.020280", from, to},
		{"unquoted with a zone", "eventTimestamp ge 2026-11-22T08:28:43.02028+01:00", from, time.Time{}},
		{"unquoted without seconds", "eventtimestamp GE 2026-11-22T07:28", from.Truncate(time.Minute), time.Time{}},
		{"a date only", "eventTimestamp ge 2026-11-22 and resourceGroupName eq 'rg'", from.Truncate(24 * time.Hour), time.Time{}},
	}
	for _, c := range cases {
		q, err := parseActivityFilter(c.filter)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !q.From.Equal(c.from) || !q.To.Equal(c.to) {
			t.Errorf("%s: from %v to %v, want %v to %v", c.name, q.From, q.To, c.from, c.to)
		}
	}
}

func TestActivityFilterRejectsUnquotedValuesElsewhere(t *testing.T) {
	for _, s := range []string{
		"eventTimestamp ge 2026-11-22T07:28:43 and resourceGroupName eq rg",
		"eventTimestamp ge yesterday",
		"eventTimestamp ge 2026-13-22T07:28:43",
		"resourceGroupName eq 'rg'",
	} {
		if _, err := parseActivityFilter(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func FuzzParseActivityFilter(f *testing.F) {
	for _, s := range []string{"eventTimestamp ge '2026-01-01T00:00:00Z' and resourceGroupName eq 'rg'",
		"eventTimestamp ge 2026-11-22T07:28:43.020280 and eventTimestamp le 2026-11-22T08:28:43.020280",
		"eventTimestamp ge 2026-11-22"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseActivityFilter(s)
		if err == nil && q.From.IsZero() {
			t.Errorf("%q parsed without a lower bound", s)
		}
	})
}
