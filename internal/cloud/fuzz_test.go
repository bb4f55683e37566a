package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// FuzzHandler sends arbitrary methods, paths, queries and bodies to the
// management API as an Owner and checks that every answer is a success or
// a 4xx ARM envelope, never a 5xx or a panic.
func FuzzHandler(f *testing.F) {
	const sub = "11111111-1111-1111-1111-111111111111"
	for _, s := range []struct{ m, p, q, b string }{
		{"PUT", "/subscriptions/" + sub + "/resourceGroups/rg", "api-version=2021-04-01", `{"location":"westeurope"}`},
		{"PUT", "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/a", "api-version=2022-01-01", `{"location":"x","properties":{"a":1}}`},
		{"PATCH", "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/a", "api-version=2022-01-01", `{"properties":{"a":null},"tags":{"k":"v"}}`},
		{"GET", "/subscriptions/" + sub + "/resources", "api-version=2021-04-01&$filter=tagName eq 'k'&$top=1", ""},
		{"DELETE", "/subscriptions/" + sub + "/resourceGroups/rg", "api-version=2021-04-01", ""},
		{"PUT", "/providers/Microsoft.Management/managementGroups/mg", "api-version=2020-05-01", `{"properties":{"details":{"parent":{"id":"/providers/Microsoft.Management/managementGroups/x"}}}}`},
		{"PATCH", "/subscriptions/" + sub + "/providers/Microsoft.Resources/tags/default", "api-version=2021-04-01", `{"operation":"Merge","properties":{"tags":{"a":"b"}}}`},
		{"GET", "/subscriptions/" + sub + "/providers/Microsoft.Insights/eventtypes/management/values", "api-version=2015-04-01&$filter=eventTimestamp ge '2020-01-01T00:00:00Z'", ""},
	} {
		f.Add(s.m, s.p, s.q, s.b)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	owner := identity.Principal{ObjectID: uuid.NewString(), TenantID: uuid.NewString(), IdentityType: "app", AppID: uuid.NewString()}
	c, err := New(Options{Store: st, TenantID: owner.TenantID,
		RateLimits: &RateLimits{Disabled: true, Reads: Bucket{1, 1}, Writes: Bucket{1, 1}, Deletes: Bucket{1, 1}},
		Authenticate: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), owner)))
			})
		}})
	if err != nil {
		f.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		f.Fatal(err)
	}
	if _, _, err := c.CreateSubscription(ctx, nil, Subscription{ID: sub}); err != nil {
		f.Fatal(err)
	}
	if err := c.EnsureOwner(ctx, "/", owner.ObjectID, rbac.PrincipalServicePrincipal); err != nil {
		f.Fatal(err)
	}
	h := c.Handler()
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if len(path) == 0 || path[0] != '/' || strings.ContainsAny(path, " \r\n\t") {
			return
		}
		req, err := http.NewRequest(method, "https://steward.test"+path+"?"+query, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, w.Code, w.Body.String())
		}
		if w.Code >= 400 && w.Body.Len() > 0 {
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Error.Code == "" {
				t.Fatalf("%d is not an ARM envelope: %s", w.Code, w.Body.String())
			}
		}
	})
}
