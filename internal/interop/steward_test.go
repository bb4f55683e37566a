package interop

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// served is a Steward running for one test, with what a client needs to
// reach it.
type served struct {
	*server.Steward
	// Dir is the data directory.
	Dir string
	// Info is the bootstrap administrator and the endpoints.
	Info identity.BootstrapInfo
	// Bundle is tls/ca-bundle.pem: the system roots plus Steward's CA.
	Bundle string
	// logs holds Steward's request log (JSON lines at debug level), shown
	// when a client fails.
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveFull starts Steward with the resource providers `steward serve`
// registers on the management API (Microsoft.Authorization, the policy
// provider and policy insights), and the extra setup given.
func serveFull(t *testing.T, extra ...server.CloudSetup) *served {
	t.Helper()
	return serve(t, append([]server.CloudSetup{func(ctx context.Context, _ *server.Steward, c *cloud.Cloud) error {
		if err := authorization.Register(c); err != nil {
			return err
		}
		p, err := policyprovider.Register(c, policyprovider.Options{})
		if err != nil {
			return err
		}
		eng := insights.New(c, insights.Options{Assignments: p.Assignments, Cycle: 24 * time.Hour})
		if err := eng.Mount(); err != nil {
			return err
		}
		eng.Start(ctx)
		t.Cleanup(eng.Stop)
		return nil
	}}, extra...)...)
}

// unthrottled turns the management API's rate limiting off, for tests
// that send many requests.
func unthrottled(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
	l := cloud.DefaultRateLimits()
	l.Disabled = true
	return c.SetRateLimits(l)
}

// serve starts Steward as `steward serve` assembles it (management API,
// logs, vault) on a free port of 127.0.0.1 with a temporary data
// directory, and stops it when the test ends. setup configures the
// management API (such as registering the policy provider).
func serve(t *testing.T, setup ...server.CloudSetup) *served {
	t.Helper()
	dir := t.TempDir()
	cfg := server.DefaultConfig()
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.Open(context.Background(), cfg, log,
		server.CloudService(setup...), server.LogsService(), server.VaultService(server.VaultOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := server.WriteTrustBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &served{Steward: s, Dir: dir, Info: info, Bundle: bundle, logs: logs}
}

// env is what `steward env --data DIR` exports, with the client secret or
// the certificate path.
func (s *served) env(credential string) []string {
	e := []string{
		"AZURE_TENANT_ID=" + s.Info.TenantID,
		"AZURE_CLIENT_ID=" + s.Info.ClientID,
		"AZURE_AUTHORITY_HOST=" + s.Info.AuthorityHost,
		"AZURE_SUBSCRIPTION_ID=" + s.Info.SubscriptionID,
		"AZURE_RESOURCE_MANAGER_ENDPOINT=" + s.Info.ARMEndpoint,
		"SSL_CERT_FILE=" + s.Bundle,
		"REQUESTS_CA_BUNDLE=" + s.Bundle,
		// Whatever a client tries beyond Steward's address (instance
		// discovery on login.microsoftonline.com, say) goes to Steward's
		// proxy, never to the network.
		"HTTPS_PROXY=" + s.ProxyURL, "https_proxy=" + s.ProxyURL,
		"HTTP_PROXY=" + s.ProxyURL, "http_proxy=" + s.ProxyURL,
		"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
	}
	if credential == "certificate" {
		return append(e, "AZURE_CLIENT_CERTIFICATE_PATH="+s.Info.CertificatePath)
	}
	return append(e, "AZURE_CLIENT_SECRET="+s.Info.ClientSecret)
}

// requestLog is Steward's request log so far, for failure messages.
func (s *served) requestLog() string { return s.logs.String() }
