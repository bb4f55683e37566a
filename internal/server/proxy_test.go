package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/identity"
)

// loopbackGuard is a dialer that refuses, and records, every dial to an
// address other than 127.0.0.0/8, ::1 or localhost, and resolves no other
// name: a test
// client using it can only ever reach Steward's listeners.
type loopbackGuard struct {
	mu      sync.Mutex
	escaped []string
}

func (g *loopbackGuard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		g.mu.Lock()
		g.escaped = append(g.escaped, addr)
		g.mu.Unlock()
		return nil, fmt.Errorf("test guard: dial to %s refused: tests never leave loopback", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (g *loopbackGuard) check(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.escaped) > 0 {
		t.Errorf("dials escaped loopback: %v", g.escaped)
	}
}

// proxyClientOptions are default Azure SDK client options, except for a
// transport that goes through s's proxy (as HTTPS_PROXY would), trusts
// Steward's CA and cannot dial anything but loopback.
func proxyClientOptions(t *testing.T, s *Steward, g *loopbackGuard) azcore.ClientOptions {
	t.Helper()
	pu, err := url.Parse(s.ProxyURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		// As HTTPS_PROXY and HTTP_PROXY with NO_PROXY=loopback do.
		Proxy: func(r *http.Request) (*url.URL, error) {
			if ip := net.ParseIP(r.URL.Hostname()); r.URL.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
				return nil, nil
			}
			return pu, nil
		},
		DialContext:       g.DialContext,
		TLSClientConfig:   &tls.Config{RootCAs: s.CA.Pool()},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return azcore.ClientOptions{Transport: &http.Client{Transport: tr}, Retry: policy.RetryOptions{MaxRetries: -1}}
}

// TestProxyServesAzureHostNamesToDefaultSDKClients: with default cloud
// settings (login.microsoftonline.com, management.azure.com,
// {vault}.vault.azure.net) and no instance-discovery switch, the Go SDK
// signs in, manages resource groups and reads and writes a vault secret
// through the proxy; object IDs have Azure's shape.
func TestProxyServesAzureHostNamesToDefaultSDKClients(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}))
	if s.ProxyURL == "" {
		t.Fatal("proxy is off by default")
	}
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &loopbackGuard{}
	defer g.check(t)
	opts := proxyClientOptions(t, s, g)
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := armresources.NewResourceGroupsClient(info.SubscriptionID, cred, &azarm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	loc := "westeurope"
	if _, err := groups.CreateOrUpdate(ctx, "proxied", armresources.ResourceGroup{Location: &loc}, nil); err != nil {
		t.Fatalf("create group through the proxy: %v", err)
	}
	got, err := groups.Get(ctx, "proxied", nil)
	if err != nil || !strings.EqualFold(*got.ID, "/subscriptions/"+info.SubscriptionID+"/resourceGroups/proxied") {
		t.Fatalf("get group: %v %+v", err, got)
	}

	secrets, err := azsecrets.NewClient("https://"+DefaultVaultName+".vault.azure.net/", cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	v := "s3cret"
	set, err := secrets.SetSecret(ctx, "proxied", azsecrets.SetSecretParameters{Value: &v}, nil)
	if err != nil {
		t.Fatalf("set secret through the proxy: %v", err)
	}
	if id := string(*set.ID); !strings.HasPrefix(id, "https://steward.vault.azure.net/secrets/proxied/") {
		t.Errorf("secret ID %q, want Azure's shape", id)
	}
	if set.ID.Name() != "proxied" || set.ID.Version() == "" {
		t.Errorf("the SDK cannot parse the secret ID %q", *set.ID)
	}
	read, err := secrets.GetSecret(ctx, "proxied", "", nil)
	if err != nil || *read.Value != v {
		t.Fatalf("get secret: %v", err)
	}
	if s.Proxy.Tunnels.Load() == 0 {
		t.Error("no CONNECT went through the proxy")
	}
}

// TestProxyRefusesWhatItDoesNotServe: CONNECT to a host Steward does not
// serve, to a served host on another port, a plain-HTTP request for
// another host or for an HTTPS-only host, and a request to the proxy
// itself are refused with a one-line reason; nothing is dialled.
func TestProxyRefusesWhatItDoesNotServe(t *testing.T) {
	s, _ := startSteward(t, t.TempDir(), CloudService())
	addr := strings.TrimPrefix(s.ProxyURL, "http://")
	cases := []struct {
		name, request string
		status        int
		reason        string
	}{
		{"connect elsewhere", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 403, "example.com is not an Azure endpoint Steward serves"},
		{"connect to an unserved Azure host", "CONNECT storage.azure.com:443 HTTP/1.1\r\nHost: storage.azure.com:443\r\n\r\n", 403, "not an Azure endpoint"},
		{"connect to another port", "CONNECT management.azure.com:8080 HTTP/1.1\r\nHost: management.azure.com:8080\r\n\r\n", 403, "port 443 only"},
		{"plain http elsewhere", "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 403, "never forwarded"},
		{"plain http to an HTTPS host", "GET http://management.azure.com/subscriptions HTTP/1.1\r\nHost: management.azure.com\r\n\r\n", 403, "HTTPS only"},
		{"the proxy itself", "GET / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", 400, "forward proxy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, c.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.reason) || strings.Count(strings.TrimSpace(string(body)), "\n") != 0 {
				t.Errorf("status %d body %q, want %d with %q on one line", resp.StatusCode, body, c.status, c.reason)
			}
		})
	}
	if s.Proxy.Tunnels.Load() != 0 {
		t.Errorf("%d tunnels opened for refused CONNECTs", s.Proxy.Tunnels.Load())
	}
	// Inside a tunnel to management.azure.com, a request for another host
	// is misdirected.
	g := &loopbackGuard{}
	client := proxyClientOptions(t, s, g).Transport.(*http.Client)
	req, _ := http.NewRequest(http.MethodGet, "https://management.azure.com/subscriptions?api-version=2022-12-01", nil)
	req.Host = "steward.vault.azure.net"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("request for another host inside a tunnel: %d, want 421", resp.StatusCode)
	}
	g.check(t)
}
