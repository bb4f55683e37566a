package identity

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRemoteJWKSValidatesTokensAndRefetchesOnRotation(t *testing.T) {
	f := newFixture(t, testAuthority)
	var fetches atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		f.svc.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()
	now := f.clock.Now()
	clock := func() time.Time { return now }
	remote := &RemoteJWKS{Authority: ts.URL, Client: ts.Client(), Now: clock}
	v := f.validator()
	v.Keys = remote
	tok := issueFor(t, f, "https://management.azure.com/.default")
	for range 3 {
		if _, err := v.Validate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches for one key, want 1 (cached)", n)
	}
	if err := f.svc.Keys().Rotate(context.Background(), f.tenant.ID); err != nil {
		t.Fatal(err)
	}
	rotated := issueFor(t, f, "https://management.azure.com/.default")
	// Within MinRefresh an unknown kid is not refetched...
	if _, err := v.Validate(context.Background(), rotated); err == nil {
		t.Error("unknown kid validated without a refetch")
	}
	// ...after it, it is.
	now = now.Add(2 * time.Minute)
	if _, err := v.Validate(context.Background(), rotated); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	// A tenant the key endpoint does not know is an invalid token, not a
	// server error.
	foreign := issueFor(t, newFixture(t, testAuthority), "https://management.azure.com/.default")
	_, err := v.Validate(context.Background(), foreign)
	var te *TokenError
	if !errors.As(err, &te) {
		t.Errorf("token of an unknown tenant: %v, want a TokenError", err)
	}
}
