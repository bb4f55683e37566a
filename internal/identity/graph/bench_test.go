package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkGraphLookups measures Graph reads over a directory of n groups
// and n applications held in memory (the handler's own cost: token
// validation, role lookup, scan, filter, JSON), for the figures in
// docs/benchmarks/graph.md.
func BenchmarkGraphLookups(b *testing.B) {
	for _, n := range []int{100, 1000} {
		e := newBenchEnv(b, n)
		tok := e.token(e.admin)
		h := e.srv.Config.Handler
		var lastApp string
		apps, _ := e.svc.Directory().Applications(context.Background(), e.tenant.ID)
		lastApp = apps[len(apps)-1].ObjectID
		for _, q := range []struct{ name, path string }{
			{"filter-eq", "/v1.0/groups?$filter=" + url.QueryEscape(fmt.Sprintf("displayName eq 'group-%d'", n/2))},
			{"list-top-100", "/v1.0/groups?$top=100"},
			{"get-app-by-id", "/v1.0/applications/" + lastApp},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", q.name, n), func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, q.path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("%s: %d %s", q.path, rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

func newBenchEnv(b *testing.B, n int) *env {
	b.Helper()
	e := newEnv(b)
	ctx := context.Background()
	for i := range n {
		if _, err := e.svc.CreateGroup(ctx, e.tenant.ID, fmt.Sprintf("group-%d", i)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := e.svc.CreateApplication(ctx, e.tenant.ID, fmt.Sprintf("app-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	return e
}
