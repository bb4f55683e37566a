package rbac

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// benchWorld is a synthetic tenant: a management-group tree, subscriptions,
// resource groups and resources, users in groups, role definitions and
// assignments spread over every scope level.
type benchWorld struct {
	e        *Engine
	users    []string
	groupsOf map[string][]string
	scopes   []string // resource scopes checks target
	actions  []string
}

func benchGUID(kind, i int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i)
}

func newBenchWorld(tb testing.TB, nAssignments, nRoles int) *benchWorld {
	rng := rand.New(rand.NewPCG(1, 2))
	c, err := BuiltInCatalog()
	if err != nil {
		tb.Fatal(err)
	}
	mgs := []string{"root", "platform", "landing-zones", "sandbox"}
	subs := map[string]string{}
	var subIDs []string
	for i := 0; i < 20; i++ {
		id := benchGUID(1, i)
		subIDs = append(subIDs, id)
		subs[id] = mgs[1+i%3]
	}
	h := NewStaticHierarchy(subs, map[string]string{"platform": "root", "landing-zones": "root", "sandbox": "root"})
	providers := []string{"Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.Web", "Microsoft.Sql"}
	types := []string{"things", "widgets", "gadgets", "servers", "sites", "vaults"}
	verbs := []string{"read", "write", "delete", "restart/action"}
	for c.Len() < nRoles {
		i := c.Len()
		p := providers[rng.IntN(len(providers))]
		perm := Permission{Actions: []string{fmt.Sprintf("%s/%s%d/*", p, types[rng.IntN(len(types))], rng.IntN(50)), "*/read"}}
		if rng.IntN(3) == 0 {
			perm.NotActions = []string{p + "/*/delete"}
		}
		rd := &RoleDefinition{Name: benchGUID(2, i), RoleName: fmt.Sprintf("custom-%d", i), Type: CustomRole,
			AssignableScopes: []string{"/providers/Microsoft.Management/managementGroups/root"}, Permissions: []Permission{perm}}
		if err := c.Add(rd); err != nil {
			tb.Fatal(err)
		}
	}
	roles := c.List()
	e := NewEngine(c, WithHierarchy(h))
	w := &benchWorld{e: e, groupsOf: map[string][]string{}}
	// Principals grow with the assignments (five per user, as many users as
	// ten groups' members), so the assignments relevant to one check stay
	// the same in number while the total grows.
	nUsers := nAssignments / 5
	nGroups := nUsers / 10
	var groups []string
	for i := 0; i < nGroups; i++ {
		groups = append(groups, benchGUID(3, i))
	}
	for i := 0; i < nUsers; i++ {
		u := benchGUID(4, i)
		w.users = append(w.users, u)
		w.groupsOf[u] = []string{groups[rng.IntN(nGroups)], groups[rng.IntN(nGroups)], groups[rng.IntN(nGroups)]}
	}
	rgOf := func(sub string, n int) string { return fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-%d", sub, n) }
	resOf := func(rg string, n int) string {
		return fmt.Sprintf("%s/providers/%s/%s/r%d", rg, providers[n%len(providers)], types[n%len(types)], n)
	}
	for i := 0; i < 500; i++ {
		sub := subIDs[rng.IntN(len(subIDs))]
		w.scopes = append(w.scopes, resOf(rgOf(sub, rng.IntN(10)), rng.IntN(100)))
	}
	for i := 0; e.Len() < nAssignments; i++ {
		var scope string
		sub := subIDs[rng.IntN(len(subIDs))]
		switch r := rng.IntN(100); {
		case r < 5:
			scope = "/providers/Microsoft.Management/managementGroups/" + mgs[rng.IntN(len(mgs))]
		case r < 25:
			scope = "/subscriptions/" + sub
		case r < 65:
			scope = rgOf(sub, rng.IntN(10))
		default:
			scope = resOf(rgOf(sub, rng.IntN(10)), rng.IntN(100))
		}
		principal := w.users[rng.IntN(len(w.users))]
		if rng.IntN(4) == 0 {
			principal = groups[rng.IntN(len(groups))]
		}
		rd := roles[rng.IntN(len(roles))]
		if !rd.AssignableAt(scope, h) {
			rd, _ = c.Get(ReaderRoleID)
		}
		ra := RoleAssignment{ID: fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/%s", scope, benchGUID(5, i)),
			Scope: scope, RoleDefinitionID: rd.ID, PrincipalID: principal, PrincipalType: PrincipalUser}
		if err := e.AddRoleAssignment(ra); err != nil && arm.AsError(err).Code != CodeRoleAssignmentExists {
			tb.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		p := providers[rng.IntN(len(providers))]
		w.actions = append(w.actions, fmt.Sprintf("%s/%s%d/%s", p, types[rng.IntN(len(types))], rng.IntN(50), verbs[rng.IntN(len(verbs))]))
	}
	return w
}

func (w *benchWorld) requests(n int) []Request {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]Request, n)
	for i := range out {
		u := w.users[rng.IntN(len(w.users))]
		out[i] = Request{PrincipalID: u, Groups: w.groupsOf[u], Action: w.actions[rng.IntN(len(w.actions))],
			Scope: w.scopes[rng.IntN(len(w.scopes))]}
	}
	return out
}

// runChecks runs b.N checks, timing each one, and reports the median and
// the 99th percentile besides ns/op: on a shared machine the mean is pulled
// up by preemption and GC, the percentiles say what a check costs.
func runChecks(b *testing.B, w *benchWorld) {
	reqs := w.requests(4096)
	ctx := context.Background()
	durs := make([]time.Duration, 0, b.N)
	allowed := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		d, err := w.e.Check(ctx, reqs[i%len(reqs)])
		durs = append(durs, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	pct := func(p float64) float64 { return float64(durs[int(float64(len(durs)-1)*p)].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(float64(allowed)/float64(b.N)*100, "%allowed")
}

// BenchmarkCheck measures access checks with 10,000 role assignments and
// 1,000 role definitions at mixed scopes.
func BenchmarkCheck(b *testing.B) {
	runChecks(b, newBenchWorld(b, 10000, 1000))
}

// BenchmarkCheckScaling shows that a check's cost does not grow with the
// number of assignments (the index, not a scan).
func BenchmarkCheckScaling(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("assignments=%d", n), func(b *testing.B) {
			runChecks(b, newBenchWorld(b, n, 1000))
		})
	}
}

// TestBenchWorldExercisesBothOutcomes keeps the benchmark honest: its
// requests must be a mix of allowed and denied checks.
func TestBenchWorldExercisesBothOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-assignment world")
	}
	w := newBenchWorld(t, 10000, 1000)
	allowed := 0
	reqs := w.requests(2000)
	for _, r := range reqs {
		d, err := w.e.Check(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed == 0 || allowed == len(reqs) {
		t.Fatalf("%d of %d checks allowed; the benchmark needs both outcomes", allowed, len(reqs))
	}
	t.Logf("%d of %d checks allowed", allowed, len(reqs))
}
