package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store/storetest"
)

// TestReplicasShareOnePostgres starts two Stewards on one PostgreSQL
// schema with data directories of their own: they share the home tenant
// and its signing key, so a token from one validates on the other, and
// each has administrator credentials of its own.
func TestReplicasShareOnePostgres(t *testing.T) {
	url := storetest.PostgresSchema(t)
	start := func() *Steward {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Listen, cfg.StoreURL = t.TempDir(), "127.0.0.1:0", url
		cfg.PublicURL = "https://localhost:8443/" // one public URL in front of both
		s, err := Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error(errors.New("replica did not stop"))
			}
		})
		return s
	}
	a, b := start(), start()
	if a.Bootstrap.TenantID != b.Bootstrap.TenantID || a.Bootstrap.ClientID != b.Bootstrap.ClientID ||
		a.Bootstrap.ClientSecret == b.Bootstrap.ClientSecret {
		t.Fatalf("replicas: %+v / %+v", a.Bootstrap, b.Bootstrap)
	}
	for _, pair := range [][2]*Steward{{a, b}, {b, a}} {
		issuer, validator := pair[0], pair[1]
		if who := whoami(t, validator, adminARMToken(t, issuer)); who["objectId"] != issuer.Bootstrap.ObjectID {
			t.Errorf("token from one replica on the other: %v", who)
		}
	}
}
