package server

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// processCPU is the CPU time (user and system) the process has used, in
// seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchConsoleResourcesEnv sizes BenchmarkConsoleOverviewEstate's estate
// (default 10,000 resources, the issue's).
const benchConsoleResourcesEnv = "STEWARD_BENCH_CONSOLE_RESOURCES"

// BenchmarkConsoleOverviewEstate renders the console's overview for a
// Reader of a served Steward whose subscription holds N network security
// groups (half without the env tag) under 10 audit assignments: 10 x N
// policy states in Policy Insights; and whose workspace holds 10 daily
// collector runs of N states each in PolicyComplianceStates_CL. Each
// iteration is one GET /console/ over loopback TLS: the SDK calls as the
// user (subscriptions, summarize, workspaces, two queries), the charts and
// the template. It reports the weight of every page in bytes.
func BenchmarkConsoleOverviewEstate(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv(benchConsoleResourcesEnv))
	if n <= 0 {
		n = 10000
	}
	const assignments = 10
	dir := b.TempDir()
	s, _ := startSteward(b, dir, CloudService(consoleSetup), LogsService(), WebService())
	e := seedConsoleEstate(b, s, dir)
	ctx := context.Background()
	rg := "/subscriptions/" + e.sub + "/resourceGroups/console"
	seedStart := time.Now()
	for i := range n {
		id := fmt.Sprintf("%s/providers/Microsoft.Network/networkSecurityGroups/nsg%05d", rg, i)
		doc := map[string]any{"id": id, "name": fmt.Sprintf("nsg%05d", i), "type": "Microsoft.Network/networkSecurityGroups",
			"location": "eastus", "properties": map[string]any{"securityRules": []any{}}}
		if i%2 == 0 {
			doc["tags"] = map[string]any{"env": "prod"}
		}
		if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: "Microsoft.Network/networkSecurityGroups", Doc: doc}); err != nil {
			b.Fatal(err)
		}
	}
	def := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/nsg-needs-env"
	for i := 1; i < assignments; i++ {
		e.mustARM(b, "PUT", fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/nsg-env-%02d", e.sub, i),
			"2022-06-01", map[string]any{"properties": map[string]any{"policyDefinitionId": def}})
	}
	// Ten daily runs of the collector, the estate improving each day.
	cols := []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "TenantId", Type: kql.TypeString},
		{Name: "ApplicationId", Type: kql.TypeString}, {Name: "PolicyAssignmentId", Type: kql.TypeString},
		{Name: "PolicyDefinitionReferenceId", Type: kql.TypeString}, {Name: "ResourceId", Type: kql.TypeString},
		{Name: "ComplianceState", Type: kql.TypeString}}
	day := time.Now().UTC().Add(-time.Hour)
	for d := range 10 {
		rows := make([]kql.Row, 0, n)
		at := kql.DateTime(logs.Ticks(day.Add(time.Duration(d-9) * 24 * time.Hour)))
		for i := range n {
			st := "Compliant"
			if i%10 >= d {
				st = "NonCompliant"
			}
			rows = append(rows, kql.Row{at, kql.String(fmt.Sprintf("tenant-%d", i%5)), kql.String(fmt.Sprintf("app-%d", i%50)),
				kql.String(fmt.Sprintf("/a%d", i%10)), kql.String(""), kql.String(fmt.Sprintf("r%05d", i)), kql.String(st)})
		}
		e.appendRows(b, "PolicyComplianceStates_CL", cols, rows, logs.Fixed)
	}
	user, err := s.Identity.CreateUser(ctx, s.Bootstrap.TenantID, "lee@steward.test", "Lee", "Lee-Password-1")
	if err != nil {
		b.Fatal(err)
	}
	assignReader(b, s, dir, user.ID)
	br := e.browser(b)
	p := br.submit(br.get("/console/"), url.Values{"login": {"lee@steward.test"}, "passwd": {"Lee-Password-1"}})
	// The scans of the new assignments run in the background: wait (with
	// a deadline) until every assignment counts the estate's open groups.
	want := fmt.Sprintf("nsg-env-%02d: %d", assignments-1, n/2+1) // and open-nsg
	for deadline := time.Now().Add(30 * time.Minute); !strings.Contains(p.body, want); p = br.get("/console/") {
		if time.Now().After(deadline) {
			b.Fatalf("the estate was not evaluated in time:\n%.3000s", p.body)
		}
		time.Sleep(time.Second)
	}
	b.Logf("estate of %d resources, %d assignments seeded and evaluated in %s", n, assignments, time.Since(seedStart).Round(time.Second))
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	// The process's CPU time per render (user + system; the served
	// Steward runs in this process): on the shared machine the wall time
	// is mostly waiting for a CPU. Background scans still running add to
	// it.
	cpu0, n0 := processCPU(), 0
	for b.Loop() {
		p = br.get("/console/")
		size = len(p.body)
		n0++
	}
	b.StopTimer()
	b.ReportMetric((processCPU()-cpu0)/float64(n0), "cpu-s/op")
	b.ReportMetric(float64(size), "overview-bytes")
	// The overview after a write: a group loses its tag (the write hook
	// evaluates it again), then the overview is rendered; only the
	// render's CPU time counts, three times.
	var afterWrite float64
	for k := range 3 {
		id := fmt.Sprintf("%s/providers/Microsoft.Network/networkSecurityGroups/nsg%05d", rg, 2*k)
		doc := map[string]any{"id": id, "name": fmt.Sprintf("nsg%05d", 2*k), "type": "Microsoft.Network/networkSecurityGroups",
			"location": "eastus", "properties": map[string]any{"securityRules": []any{}}}
		if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: "Microsoft.Network/networkSecurityGroups", Doc: doc}); err != nil {
			b.Fatal(err)
		}
		cpu0 := processCPU()
		br.get("/console/")
		afterWrite += processCPU() - cpu0
	}
	b.ReportMetric(afterWrite/3, "after-write-cpu-s")
	// Every page's weight, as the Reader sees it in this estate.
	assignment := link(b, p.body, "nsg-needs-env")
	pages := []struct{ name, path string }{{"alerts", "/console/alerts"}, {"kql", "/console/kql"}, {"vending", "/console/vending"},
		{"credentials", "/console/credentials"}, {"access", "/console/access"}, {"security", "/console/security"},
		{"assignment", assignment}}
	for _, pg := range pages {
		q := br.get(pg.path)
		if pg.name == "assignment" {
			res := link(b, q.body, fmt.Sprintf("%s/providers/Microsoft.Network/networkSecurityGroups/nsg%05d", rg, 1))
			r := br.get(res)
			b.ReportMetric(float64(len(r.body)), "resource-bytes")
		}
		b.ReportMetric(float64(len(q.body)), pg.name+"-bytes")
	}
}
