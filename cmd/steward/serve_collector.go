package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/steward-gov/steward/internal/server"
)

// The collector's schedules when no flag sets them.
const (
	defaultCollectorEvery   = 6 * time.Hour
	defaultReconcileEvery   = time.Hour
	minimumCollectorPeriods = time.Minute
)

// addServeCollectorFlags adds the schedules of the collector that `steward
// serve` runs.
func addServeCollectorFlags(f *pflag.FlagSet) {
	f.Duration("collector-every", defaultCollectorEvery, "how often the collector collects the policy states of the managed applications, once it is prepared; 0: on demand only (steward collector run)")
	f.Duration("collector-reconcile-every", defaultReconcileEvery, "how often the collector reconciles its inventory with the applications it can see; 0: on demand only (steward collector reconcile)")
}

// collectorOptions reads them: 0 turns a schedule off, anything else is at
// least a minute.
func collectorOptions(cmd *cobra.Command) (server.CollectorServeOptions, error) {
	f := cmd.Flags()
	var o server.CollectorServeOptions
	every, _ := f.GetDuration("collector-every")
	reconcile, _ := f.GetDuration("collector-reconcile-every")
	for name, d := range map[string]time.Duration{"--collector-every": every, "--collector-reconcile-every": reconcile} {
		if d < 0 || (d > 0 && d < minimumCollectorPeriods) {
			return o, &exitError{code: 2, msg: fmt.Sprintf("steward serve: %s %s: give 0 (on demand only) or at least %s", name, d, minimumCollectorPeriods)}
		}
	}
	o.Interval, o.Disabled = every, every == 0
	o.ReconcileInterval, o.ReconcileDisabled = reconcile, reconcile == 0
	return o, nil
}
