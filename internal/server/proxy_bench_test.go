package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// BenchmarkProxy measures one request (GET of the home tenant's discovery
// document: a cheap handler, so the figures are the transport's) on the
// main port and through the forward proxy as login.microsoftonline.com: on
// a kept-alive tunnel, and with a new CONNECT and TLS handshake per
// request (leaf certificate from the cache). ARM requests would hit ARM's
// read throttling (250 reads, 25/s) within a benchmark.
func BenchmarkProxy(b *testing.B) {
	dir := b.TempDir()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Listen, cfg.LogLevel = dir, "127.0.0.1:0", "error"
	s, err := Open(b.Context(), cfg, nil, CloudService())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	path := s.Bootstrap.TenantID + "/v2.0/.well-known/openid-configuration"
	pu, _ := url.Parse(s.ProxyURL)
	tlsCfg := &tls.Config{RootCAs: s.CA.Pool()}
	cases := []struct {
		name string
		base string
		tr   *http.Transport
	}{
		{"main port", s.BaseURL, &http.Transport{TLSClientConfig: tlsCfg}},
		{"proxy, kept-alive tunnel", "https://login.microsoftonline.com/", &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyURL(pu)}},
		{"proxy, new tunnel per request", "https://login.microsoftonline.com/", &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyURL(pu), DisableKeepAlives: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{Transport: c.tr}
			defer c.tr.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
			start := time.Now()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkLeafCache measures a cached leaf certificate and issuing a new
// one (one ECDSA P-256 signature).
func BenchmarkLeafCache(b *testing.B) {
	ca, err := EnsureCA(b.TempDir(), nil, time.Now(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	leaves, err := NewLeafCache(ca, rand.Reader, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hit", func(b *testing.B) {
		if _, err := leaves.Get("management.azure.com"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := leaves.Get("management.azure.com"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("issue", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := leaves.Get(fmt.Sprintf("v%d.vault.azure.net", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
