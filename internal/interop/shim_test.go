package interop

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// A gap is something a real client needs that Steward does not serve (yet).
// The shim in front of Steward bridges each gap the way the fix proposed in
// docs/decisions/interop.md would, so the tests can go on to everything
// after it; the tests check each gap is still real (so a fixed gap fails
// the test until its bridge is removed) and that the client used it.
type gap struct {
	// Name identifies the gap in docs/decisions/interop.md.
	Name string
	// Match says whether the bridge applies to a request.
	Match func(r *http.Request) bool
	// Bridge rewrites the request into one Steward serves.
	Bridge func(s *served, r *http.Request)
	// Probe is a request (path and query, with an ARM token) that shows
	// the gap on Steward itself, and Today the status Steward answers it
	// with while the gap is open.
	Probe string
	Today int
}

// subscriptionsPath is the subscription list and a subscription: ARM
// serves them with the subscriptions spec's api-versions, not the
// resources spec's.
var subscriptionsPath = regexp.MustCompile(`(?i)^/subscriptions(/[^/]+)?/?$`)

// gaps are the bridges the Azure CLI 2.45 needs.
var gaps = []gap{
	{
		Name: "adfs-discovery",
		Match: func(r *http.Request) bool {
			return strings.EqualFold(r.URL.Path, "/adfs/.well-known/openid-configuration")
		},
		Bridge: func(s *served, r *http.Request) {
			r.URL.Path = "/" + s.Info.TenantID + "/v2.0/.well-known/openid-configuration"
		},
		Probe: "adfs/.well-known/openid-configuration",
		Today: http.StatusNotFound,
	},
	{
		Name: "subscriptions-api-version",
		Match: func(r *http.Request) bool {
			v := r.URL.Query().Get("api-version")
			return subscriptionsPath.MatchString(r.URL.Path) && subscriptionsOnlyVersions[v]
		},
		Bridge: func(_ *served, r *http.Request) {
			q := r.URL.Query()
			q.Set("api-version", "2022-12-01")
			r.URL.RawQuery = q.Encode()
		},
		Probe: "subscriptions?api-version=2019-11-01",
		Today: http.StatusBadRequest,
	},
}

// subscriptionsOnlyVersions are the api-versions of the subscriptions
// spec (Microsoft.Resources/stable/*/subscriptions.json) that the
// resources spec lacks.
var subscriptionsOnlyVersions = map[string]bool{
	"2016-06-01": true, "2018-06-01": true, "2019-06-01": true, "2019-11-01": true, "2020-01-01": true,
}

// shim is a TLS front for Steward, with Steward's own serving certificate,
// that bridges gaps and counts how often each was used.
type shim struct {
	URL  string
	mu   sync.Mutex
	used map[string]int
}

// startShim serves Steward's handler behind the gap bridges on another
// port of 127.0.0.1.
func startShim(t *testing.T, s *served) *shim {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(s.Dir, "tls", "server.pem"), filepath.Join(s.Dir, "tls", "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sh := &shim{used: map[string]int{}}
	next := s.Server.Handler()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, g := range gaps {
			if g.Match(r) {
				g.Bridge(s, r)
				sh.mu.Lock()
				sh.used[g.Name]++
				sh.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	sh.URL = strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) + "/"
	return sh
}

// Used reports how many requests went through the named bridge.
func (sh *shim) Used(name string) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.used[name]
}
