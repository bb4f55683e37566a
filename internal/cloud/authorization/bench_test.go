package authorization_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
)

// benchDefinitions are the rules the benchmark's assignments rotate
// through: a location deny that applies to every write, a tag deny the
// written resource satisfies, a type-specific deny for another type and
// seed 004's role-assignment rule (not applicable to resources).
var benchDefinitions = map[string]string{
	"locations":   allowedLocations,
	"require-tag": `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"tags['env']","exists":"false"},"then":{"effect":"deny"}}}}`,
	"no-vms":      `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"type","equals":"Microsoft.Compute/virtualMachines"},"then":{"effect":"deny"}}}}`,
	"seed-004":    seedDenyOwnerUAA,
}

// policyBenchEnv is a Steward with n role assignments and n policy
// assignments in scope of writes to the "bench" group (half at the
// subscription, half at the group).
// With distinct, every location assignment gets its own parameter values,
// so no two assignments share an evaluation.
func policyBenchEnv(b *testing.B, n int, distinct bool) (*env, string) {
	e := newEnv(b)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	rg := sub + "/resourceGroups/bench"
	if r, body := e.do(b, "PUT", rg+"?api-version=2021-04-01", []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		b.Fatalf("%d %s", r.StatusCode, body)
	}
	for name, doc := range benchDefinitions {
		if r, body := e.do(b, "PUT", sub+"/providers/Microsoft.Authorization/policyDefinitions/"+name+"?api-version=2023-04-01", []byte(doc)); r.StatusCode != http.StatusCreated {
			b.Fatalf("%s: %d %s", name, r.StatusCode, body)
		}
	}
	names := []string{"locations", "require-tag", "no-vms", "seed-004"}
	roles := []string{rbac.ReaderRoleID, rbac.ContributorRoleID, rbac.OwnerRoleID}
	for i := range n {
		scope := sub
		if i%2 == 1 {
			scope = rg
		}
		ra := rbac.RoleAssignmentDocument(scope, roles[i%len(roles)], uuid.NewString(), rbac.PrincipalUser)
		if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: ra["id"].(string), Type: cloud.TypeRoleAssignment, Doc: ra}); err != nil {
			b.Fatal(err)
		}
		def := names[i%len(names)]
		id := fmt.Sprintf("%s/providers/Microsoft.Authorization/policyAssignments/a%d", scope, i)
		props := map[string]any{"policyDefinitionId": sub + "/providers/Microsoft.Authorization/policyDefinitions/" + def,
			"scope": scope, "notScopes": []any{}, "enforcementMode": "Default"}
		if def == "locations" {
			locs := []any{"westeurope", "northeurope"}
			if distinct {
				locs = append(locs, fmt.Sprintf("region%d", i))
			}
			props["parameters"] = map[string]any{"listOfAllowedLocations": map[string]any{"value": locs}}
		}
		doc := map[string]any{"id": id, "name": fmt.Sprintf("a%d", i), "type": "Microsoft.Authorization/policyAssignments", "properties": props}
		if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: "Microsoft.Authorization/policyAssignments", Doc: doc}); err != nil {
			b.Fatal(err)
		}
	}
	// One write through the API marks the cache stale, so the next
	// evaluation compiles the assignments stored directly above.
	if r, body := e.do(b, "PUT", sub+"/providers/Microsoft.Authorization/policyDefinitions/locations?api-version=2023-04-01", []byte(allowedLocations)); r.StatusCode != http.StatusCreated {
		b.Fatalf("%d %s", r.StatusCode, body)
	}
	assigned, _, err := e.policy.Assignments(ctx)
	if err != nil || len(assigned) != n {
		b.Fatalf("compiled %d assignments (%v), want %d", len(assigned), err, n)
	}
	return e, rg
}

// BenchmarkRBACAndPolicyOverhead is the per-write overhead the 1 ms p99
// target is about: the RBAC check with 1,000 role assignments in scope
// plus the policy hook deciding the write against 1,000 policy
// assignments in scope.
func BenchmarkRBACAndPolicyOverhead(b *testing.B) {
	for _, distinct := range []bool{false, true} {
		b.Run(fmt.Sprintf("distinct=%v", distinct), func(b *testing.B) { benchOverhead(b, distinct) })
	}
}

func benchOverhead(b *testing.B, distinct bool) {
	e, rg := policyBenchEnv(b, 1000, distinct)
	ctx := context.Background()
	c := e.s.Cloud
	p := identity.Principal{ObjectID: e.s.Bootstrap.ObjectID}
	samples := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("%s/providers/Microsoft.Web/sites/s%d", rg, i%100)
		doc := map[string]any{"id": id, "name": fmt.Sprintf("s%d", i%100), "type": "Microsoft.Web/sites",
			"location": "westeurope", "tags": map[string]any{"env": "prod"}}
		start := time.Now()
		if !c.Allowed(ctx, p, rbac.Request{Action: "Microsoft.Web/sites/write", Scope: id}) {
			b.Fatal("denied by rbac")
		}
		if err := e.policy.BeforeWrite(ctx, &cloud.PolicyRequest{Operation: cloud.OpWrite, ID: id, Type: "Microsoft.Web/sites", Document: doc, Principal: p}); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	reportPercentiles(b, samples)
}

// BenchmarkWriteWithPolicies is a whole PUT through the API with the same
// 1,000 + 1,000 assignments in scope.
func BenchmarkWriteWithPolicies(b *testing.B) {
	e, rg := policyBenchEnv(b, 1000, false)
	samples := make([]time.Duration, 0, 1<<12)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		r, body := e.do(b, "PUT", fmt.Sprintf("%s/providers/Microsoft.Web/sites/s%d?api-version=2023-01-01", rg, i%100),
			[]byte(`{"location":"westeurope","tags":{"env":"prod"}}`))
		samples = append(samples, time.Since(start))
		if r.StatusCode >= 300 {
			b.Fatalf("%d %s", r.StatusCode, body)
		}
	}
	reportPercentiles(b, samples)
}

func reportPercentiles(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkRecompileAfterPolicyWrite is the cost the first write after a
// policy change pays: compiling the 1,000 assignments again.
func BenchmarkRecompileAfterPolicyWrite(b *testing.B) {
	e, _ := policyBenchEnv(b, 1000, false)
	ctx := context.Background()
	path := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/no-vms?api-version=2023-04-01"
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		if r, body := e.do(b, "PUT", path, []byte(benchDefinitions["no-vms"])); r.StatusCode != http.StatusCreated {
			b.Fatalf("%d %s", r.StatusCode, body)
		}
		b.StartTimer()
		start := time.Now()
		if _, _, err := e.policy.Assignments(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/recompile")
}
