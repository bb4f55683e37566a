package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestRouterRoutesAzureHostNamesByHost(t *testing.T) {
	rt := &Router{}
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(name)) })
	}
	always := func(*http.Request) bool { return true }
	rt.HandlePrefix("path", "/subscriptions/", named("path"))
	rt.Host("management.azure.com").HandlePrefix("arm", "/subscriptions/", named("arm"))
	rt.Host("*.vault.azure.net").Handle(Route{Name: "vault", Match: always, Handler: named("vault")})
	rt.Host("*.*-1.ingest.monitor.azure.com").Handle(Route{Name: "ingest", Match: always, Handler: named("ingest")})
	rt.Host("graph.microsoft.com") // no routes: not served
	cases := []struct {
		host, path, want string
		status           int
	}{
		{"management.azure.com", "/subscriptions/x", "arm", 200},
		{"MANAGEMENT.azure.com:443", "/subscriptions/x", "arm", 200},
		{"management.azure.com", "/vaults/steward", "", 404},
		{"steward.vault.azure.net", "/secrets/a", "vault", 200},
		{"a.b.vault.azure.net", "/secrets/a", "path", 404},
		{"dce-1a2b.westeurope-1.ingest.monitor.azure.com", "/dataCollectionRules/x/streams/y", "ingest", 200},
		{"dce.westeurope-2.ingest.monitor.azure.com", "/x", "", 404},
		{"localhost:8443", "/subscriptions/x", "path", 200},
		{"graph.microsoft.com", "/subscriptions/x", "path", 200},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "https://"+c.host+c.path, nil)
		req.Host = c.host
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, req)
		if rec.Code != c.status || (c.status == 200 && rec.Body.String() != c.want) {
			t.Errorf("%s%s: %d %q, want %d %q", c.host, c.path, rec.Code, rec.Body.String(), c.status, c.want)
		}
	}
	for host, want := range map[string]bool{"management.azure.com:443": true, "x.vault.azure.net": true, "vault.azure.net": false,
		"graph.microsoft.com": false, "example.com": false, "": false} {
		if got := rt.ServesHost(host); got != want {
			t.Errorf("ServesHost(%q) = %v", host, got)
		}
	}
}

func TestProxyAllowList(t *testing.T) {
	allow, err := ParseAllow([]string{"10.0.0.0/8, 192.168.1.7", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		allow  []netip.Prefix
		remote string
		want   bool
	}{
		{nil, "127.0.0.1:5000", true},
		{nil, "[::1]:5000", true},
		{nil, "10.1.2.3:5000", false},
		{allow, "10.1.2.3:5000", true},
		{allow, "192.168.1.7:1", true},
		{allow, "192.168.1.8:1", false},
		{allow, "[fd00::1]:1", true},
		{allow, "127.0.0.1:1", false},
		{allow, "garbage", false},
	} {
		p := NewProxy(ProxyOptions{Allow: c.allow})
		if got := p.allowed(c.remote); got != c.want {
			t.Errorf("allow %v, %s: %v", c.allow, c.remote, got)
		}
	}
	if _, err := ParseAllow([]string{"10.0.0.0/33", "nonsense"}); err == nil {
		t.Error("bad prefixes accepted")
	}
}

func TestProxyConfig(t *testing.T) {
	for _, c := range []struct {
		proxy, listen, want string
		valid               bool
	}{
		{ProxyAuto, "127.0.0.1:8443", "127.0.0.1:8444", true},
		{ProxyAuto, "127.0.0.1:0", "127.0.0.1:0", true},
		{"", "127.0.0.1:8443", "", true},
		{"127.0.0.1:9999", "127.0.0.1:8443", "127.0.0.1:9999", true},
		{"no-port", "127.0.0.1:8443", "no-port", false},
	} {
		cfg := DefaultConfig()
		cfg.Proxy, cfg.Listen = c.proxy, c.listen
		if err := cfg.Validate(); (err == nil) != c.valid {
			t.Errorf("%q: Validate = %v", c.proxy, err)
		}
		if got := cfg.ProxyAddr(cfg.Listen); c.valid && got != c.want {
			t.Errorf("%q next to %s: %q, want %q", c.proxy, c.listen, got, c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.ProxyAllow = []string{"not a cidr"}
	if cfg.Validate() == nil {
		t.Error("invalid --proxy-allow accepted")
	}
}
