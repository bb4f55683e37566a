package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestServeCollectorFlags: the collector's schedules come from serve's
// flags; 0 leaves a schedule to on-demand runs, and a period under a
// minute is a usage error.
func TestServeCollectorFlags(t *testing.T) {
	parse := func(args ...string) (interval, reconcile time.Duration, off, reconcileOff bool, err error) {
		t.Helper()
		cmd := newServeCmd()
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		o, err := collectorOptions(cmd)
		return o.Interval, o.ReconcileInterval, o.Disabled, o.ReconcileDisabled, err
	}
	if i, r, off, roff, err := parse(); err != nil || i != 6*time.Hour || r != time.Hour || off || roff {
		t.Errorf("defaults: %v %v %v %v %v", i, r, off, roff, err)
	}
	if i, r, off, roff, err := parse("--collector-every", "30m", "--collector-reconcile-every", "0"); err != nil ||
		i != 30*time.Minute || off || !roff || r != 0 {
		t.Errorf("30m and 0: %v %v %v %v %v", i, r, off, roff, err)
	}
	if _, _, off, roff, err := parse("--collector-every", "0"); err != nil || !off || roff {
		t.Errorf("collections on demand only: %v %v %v", off, roff, err)
	}
	for _, bad := range [][]string{{"--collector-every", "5s"}, {"--collector-reconcile-every", "-1h"}} {
		_, _, _, _, err := parse(bad...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, bad[0]) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
