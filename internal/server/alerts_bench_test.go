package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/alerts"
	"github.com/steward-gov/steward/internal/logs"
)

// Sizes of BenchmarkAlertEvaluation; the defaults are small, and
// docs/benchmarks/alerts.md gives the full-size command (1,000 rules over
// 1,000,000 rows).
const (
	benchAlertRulesEnv = "STEWARD_ALERTS_BENCH_RULES"
	benchAlertRowsEnv  = "STEWARD_ALERTS_BENCH_ROWS"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkAlertEvaluation runs 1-minute log alert rules over a workspace
// table: each iteration is one minute of the evaluator's clock, in which
// every rule is due. It reports how far behind schedule evaluations
// finished (p50, p99), the evaluator's CPU time per rule and the heap in
// use.
func BenchmarkAlertEvaluation(b *testing.B) {
	nRules, nRows := envInt(benchAlertRulesEnv, 50), envInt(benchAlertRowsEnv, 20000)
	t := &testing.T{}
	clock := &fakeClock{}
	var svc *alerts.Service
	dir := b.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService(), AlertsService(AlertsOptions{Now: clock.Now, Disabled: true},
		func(a *alerts.Service) { svc = a }))
	e := newLogsEnvFor(t, s, dir)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/bench"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/bench"
	ws := e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	customerID := props(ws)["customerId"].(string)
	key := e.mustARM(t, "POST", wsID+"/sharedKeys", "2020-08-01", nil)["primarySharedKey"].(string)

	// Rows spread over the last hour, 100 computers.
	start := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	base := strings.TrimSuffix(s.BaseURL, "/")
	for done := 0; done < nRows; {
		var recs []string
		for i := 0; i < 5000 && done < nRows; i, done = i+1, done+1 {
			ts := start.Add(time.Duration(done) * time.Hour / time.Duration(nRows))
			recs = append(recs, fmt.Sprintf(`{"Computer":"vm%d","Cpu":%d,"At":"%s"}`, done%100, done%100, ts.Format(time.RFC3339Nano)))
		}
		body := "[" + strings.Join(recs, ",") + "]"
		date := time.Now().UTC().Format(http.TimeFormat)
		sig, _ := logs.Signature(key, "POST", int64(len(body)), "application/json", date)
		req, _ := http.NewRequest("POST", base+"/ods/"+customerID+"/api/logs?api-version=2016-04-01", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Log-Type", "Perf")
		req.Header.Set("x-ms-date", date)
		req.Header.Set("time-generated-field", "At")
		req.Header.Set("Authorization", "SharedKey "+customerID+":"+sig)
		resp, err := e.client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("ingest: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	for i := range nRules {
		putThrottled(b, e, t, fmt.Sprintf("%s/providers/Microsoft.Insights/scheduledQueryRules/r%d", rg, i), "2021-08-01", map[string]any{
			"location": "eastus", "properties": map[string]any{"severity": 3, "enabled": true, "scopes": []any{wsID},
				"evaluationFrequency": "PT1M", "windowSize": "PT1M",
				"criteria": map[string]any{"allOf": []any{map[string]any{
					"query":           fmt.Sprintf("Perf_CL | where Computer_s == 'vm%d' and Cpu_d > %d", i%100, 50+i%50),
					"timeAggregation": "Count", "operator": "GreaterThan", "threshold": 0,
					"dimensions": []any{map[string]any{"name": "Computer_s", "operator": "Include", "values": []any{"*"}}}}}}}})
	}
	clock.Set(start.Add(time.Minute + time.Second))
	ctx := context.Background()
	if err := svc.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	svc.Lags()
	var before, after runtime.MemStats
	var cpu0 = cpuTime()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	minute := 0
	for b.Loop() {
		minute++
		clock.Set(start.Add(time.Duration(minute)*time.Minute + time.Second))
		if err := svc.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	cpu := cpuTime() - cpu0
	lags := svc.Lags()
	if len(lags) == 0 {
		b.Fatal("no rule was evaluated")
	}
	slices.Sort(lags)
	// The clock stands still during a tick, so the lag of an evaluation is
	// the wall time the tick took until it finished, plus the 1 s offset.
	b.ReportMetric(float64(lags[len(lags)/2]-time.Second)/1e6, "lag-p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100]-time.Second)/1e6, "lag-p99-ms")
	b.ReportMetric(float64(cpu)/float64(len(lags))/1e3, "cpu-µs/rule")
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// putThrottled PUTs a resource, waiting out ARM's write throttling (429)
// as a client following Retry-After would.
func putThrottled(b *testing.B, e *logsEnv, t *testing.T, path, apiVersion string, body any) {
	for range 600 {
		code, out := e.arm(t, "PUT", path, apiVersion, body)
		switch {
		case code == http.StatusTooManyRequests:
			time.Sleep(time.Second)
			continue
		case code >= 300:
			b.Fatalf("PUT %s: %d %v", path, code, out)
		}
		return
	}
	b.Fatalf("PUT %s: still throttled", path)
}
