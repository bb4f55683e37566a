package scan

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/policy/scan/internal/gen/synth"
)

const corpusDir = "../../../../shared/corpus"

// countingSink discards the output, counting findings.
type countingSink struct{ findings, malformed int64 }

func (s *countingSink) Finding(*Finding) error       { s.findings++; return nil }
func (s *countingSink) Malformed(*RecordError) error { s.malformed++; return nil }
func (s *countingSink) Diff(*DiffEntry) error        { return nil }
func (s *countingSink) Finish(*Report) error         { return nil }

// benchEstate writes the synthetic estate (STEWARD_SCAN_BENCH_N
// resources, 100,000 by default) to a temporary file.
func benchEstate(b *testing.B) (string, int) {
	b.Helper()
	n := 100000
	if s := os.Getenv("STEWARD_SCAN_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "estate.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := synth.Write(f, n, 1, "jsonl"); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, n
}

func benchAliases(b *testing.B) *policy.AliasTable {
	b.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "aliases", "policy-aliases.csv.gz"))
	if err != nil {
		b.Skipf("skipping: the alias table of ../shared/corpus is not present: %v; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", err)
	}
	defer f.Close()
	t, err := policy.LoadAliasesCSV(f)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func builtIns(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(corpusDir, "azure-policy", "built-in-policies", "policyDefinitions")
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("skipping: the built-in corpus is not present: %v; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", err)
	}
	return dir
}

// runBench scans the estate once per iteration and reports resources/s
// and the peak heap in use, sampled every 50 ms.
func runBench(b *testing.B, plan *Plan, aliases *policy.AliasTable) {
	path, n := benchEstate(b)
	b.Logf("%d assignments, %d definitions, %d skipped; %d resources", len(plan.Targets), plan.Members, len(plan.Problems), n)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	var sink countingSink
	var rep *Report
	b.ResetTimer()
	for b.Loop() {
		var err error
		rep, err = Run(context.Background(), FileEstate(path), plan, Config{Aliases: aliases}, &sink)
		if err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	applied := 0
	for _, a := range rep.Assignments {
		if a.Resources.Total > 0 {
			applied++
		}
	}
	b.Logf("overall %+v; %d non-compliant results, %d errors, %d denied; %d assignments applied to some resource",
		rep.Overall, rep.NonCompliant, rep.Errors, rep.Denied, applied)
}

// BenchmarkScanCorpus scans the synthetic estate against every built-in
// definition that can be assigned with its default parameters, each
// assigned on its own at the root scope (what `steward policy scan
// --policy .../policyDefinitions` does). One op is one whole scan.
func BenchmarkScanCorpus(b *testing.B) {
	aliases := benchAliases(b)
	plan, err := LoadPlan(Policies{PolicyPaths: []string{builtIns(b)}, Aliases: aliases})
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, plan, aliases)
}

// BenchmarkScanInitiative20 scans the synthetic estate against one
// initiative of 20 built-in definitions for the generated types.
func BenchmarkScanInitiative20(b *testing.B) {
	aliases := benchAliases(b)
	dir := builtIns(b)
	var members []map[string]any
	for _, cat := range []string{"Storage", "Key Vault", "SQL", "App Service", "Compute", "Network"} {
		if len(members) == 20 {
			break
		}
		files, _ := filepath.Glob(filepath.Join(dir, cat, "*.json"))
		sort.Strings(files)
		taken := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			d, err := policy.ParseDefinition(data)
			if err != nil || !assignable(d) {
				continue
			}
			if _, err := policy.Compile(d, policy.CompileOptions{Aliases: aliases, Parameters: map[string]any{}}); err != nil {
				continue
			}
			members = append(members, map[string]any{"policyDefinitionId": d.ID, "policyDefinitionReferenceId": d.Name})
			if taken++; taken == 4 || len(members) == 20 {
				break
			}
		}
	}
	if len(members) != 20 {
		b.Fatalf("found %d definitions for the initiative, want 20", len(members))
	}
	set, _ := json.Marshal(map[string]any{"name": "bench20", "properties": map[string]any{"policyDefinitions": members}})
	setPath := filepath.Join(b.TempDir(), "bench20.json")
	if err := os.WriteFile(setPath, set, 0o644); err != nil {
		b.Fatal(err)
	}
	plan, err := LoadPlan(Policies{PolicyPaths: []string{setPath}, DefinitionPaths: []string{dir}, Aliases: aliases})
	if err != nil {
		b.Fatal(err)
	}
	if len(plan.Targets) != 1 || len(plan.Problems) > 0 {
		b.Fatalf("initiative did not compile: %+v", plan.Problems)
	}
	runBench(b, plan, aliases)
}

// assignable reports whether a definition can be assigned with default
// parameters and evaluates resource manager documents.
func assignable(d *policy.Definition) bool {
	for _, p := range d.Parameters {
		if !p.HasDefault {
			return false
		}
	}
	m := policy.ParseMode(d.Mode)
	return !m.IsResourceProvider()
}
