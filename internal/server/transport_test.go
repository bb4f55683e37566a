package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestInProcessTransport(t *testing.T) {
	var sawTLS bool
	var sawURI, sawHost string
	h := http.NewServeMux()
	h.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		sawTLS, sawURI, sawHost = r.TLS != nil, r.RequestURI, r.Host
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Test", "yes")
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	h.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	tr := InProcessTransport{Handler: h}

	req, _ := http.NewRequest(http.MethodPost, "https://localhost:8443/echo?a=1", strings.NewReader("body"))
	resp, err := tr.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || string(b) != "body" || resp.Header.Get("X-Test") != "yes" ||
		resp.ContentLength != 4 || resp.Request != req {
		t.Errorf("response %d %q %v", resp.StatusCode, b, resp.Header)
	}
	if !sawTLS || sawURI != "/echo?a=1" || sawHost != "localhost:8443" {
		t.Errorf("handler saw TLS=%v URI=%q Host=%q", sawTLS, sawURI, sawHost)
	}

	req, _ = http.NewRequest(http.MethodHead, "http://localhost/echo", nil)
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); len(b) != 0 || sawTLS {
		t.Errorf("HEAD over http: body %q, TLS %v", b, sawTLS)
	}

	req, _ = http.NewRequest(http.MethodGet, "https://localhost/panic", nil)
	if _, err := tr.Do(req); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("panic: err = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "https://localhost/echo", nil)
	if _, err := tr.Do(req); err == nil {
		t.Error("cancelled request was served")
	}
}
