package kql

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGovernorBoundsUsagePlugins requires the usage-analytics plugins and
// partition's brace form to stop in the governor's error when what they
// build (bins, per-id timelines, windows, per-partition plans) goes over
// the budget, not only when their input does.
func TestGovernorBoundsUsagePlugins(t *testing.T) {
	// long ids: the plugins' own copies of them do not fit beside the input
	distinct := "range x from 1 to 50000 step 1 | project k = strcat(strrep('i', 150), tostring(x)), t = datetime(2020-01-01) + x * 1s"
	if _, err := Run(context.Background(), distinct+" | sort by k | count", Options{Limits: small}); err != nil {
		t.Fatalf("the input does not fit: %v", err)
	}
	runLimitCases(t, []limitCase{
		// ten years of one-tick bins: the bins alone are over the budget
		{"sliding_window_counts bins", "range x from 1 to 10 step 1 | extend t = datetime(2020-01-01) + x * 1d" +
			" | evaluate sliding_window_counts(x, t, datetime(2020-01-01), datetime(2030-01-01), 1tick, 1tick)", small, CodeRunaway},
		// the per-id timelines of 50,000 distinct long ids
		{"active_users_count timelines", distinct + " | evaluate active_users_count(k, t, datetime(2020-01-01), datetime(2020-01-03), 1d, 1h, 2, 1d)", small, CodeRunaway},
		{"sliding_window_counts ids", distinct + " | evaluate sliding_window_counts(k, t, datetime(2020-01-01), datetime(2020-01-03), 1d, 1d)", small, CodeRunaway},
		// 100,000 windows of up to 100,000 values each: the time budget ends it
		{"rolling_percentile windows", "range x from 1 to 100000 step 1 | evaluate rolling_percentile(x, 50, x, 1, 100000)",
			Limits{Timeout: 200 * time.Millisecond}, CodeTimeout},
		// 20,000 one-minute windows: two 20,000 x 20,000 cohort matrices
		{"new_activity_metrics matrix", "range x from 1 to 10 step 1 | extend t = datetime(2020-01-01) + x * 1d" +
			" | evaluate new_activity_metrics(x, t, datetime(2020-01-01), datetime(2020-01-01) + 20000m, 1m)", small, CodeRunaway},
		// one id's 100,000 events, each a state of a 100-step sequence: the
		// table of next states per event and step
		{"funnel_sequence_completion steps", "range x from 1 to 100000 step 1 | extend t = datetime(2020-01-01) + x * 1s, s = 'a', u = 1" +
			" | evaluate funnel_sequence_completion(u, t, datetime(2020-01-01), datetime(2020-01-03), 1d, s, todynamic(strcat('[', strrep('\"a\"', 100, ','), ']')), dynamic([1d]))",
			small, CodeRunaway},
		// each partition's subquery output is kept
		{"partition brace form", "range x from 1 to 64 step 1 | partition by x { range y from 1 to 100000 step 1 | extend s = strcat('value ', tostring(y)) }", small, CodeRunaway},
	})
}

// limitCase is a query that must end in the governor's error code.
type limitCase struct {
	name, query string
	limits      Limits
	code        string
}

func runLimitCases(t *testing.T, cases []limitCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := Run(ctx, c.query, Options{Limits: c.limits})
			var le *LimitError
			if !errors.As(err, &le) || le.Code != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
}
