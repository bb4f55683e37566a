package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveLimits serves s's handler on a loopback listener, as Serve does in
// production (listener cap included), until the test ends.
func serveLimits(t *testing.T, cfg Config, h http.Handler) string {
	t.Helper()
	s := New(cfg, slog.New(slog.DiscardHandler))
	if h != nil {
		s.Router.HandlePrefix("test", "/", h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, LimitConnsPerIP(ln, cfg.MaxConnsPerIP), nil) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// TestSlowBodyIsCutAtTheBodyDeadline sends headers, then trickles a body:
// the server ends the connection at the body deadline instead of holding
// it, while a handler that has read its body may run past the deadline.
func TestSlowBodyIsCutAtTheBodyDeadline(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BodyReadTimeout = 300 * time.Millisecond
	addr := serveLimits(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return // the deadline cut the body
		}
		time.Sleep(2 * cfg.BodyReadTimeout) // slow work after the body
		fmt.Fprint(w, "done")
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	// The server closes (or answers and closes) once the deadline passes.
	go func() {
		for i := 0; i < 20; i++ {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	_, _ = io.ReadAll(c)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("connection held %v by a trickling body", d)
	}

	// A complete body, then work longer than the body deadline: answered.
	resp, err := http.Post("http://"+addr+"/fast", "text/plain", strings.NewReader("all at once"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "done" {
		t.Fatalf("handler after a complete body: %d %q", resp.StatusCode, b)
	}
}

// TestConnectionsPerIPAreCapped opens more connections from loopback than
// the cap: the ones beyond it are closed at once, the others are served,
// and a slot comes back when a connection closes.
func TestConnectionsPerIPAreCapped(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxConnsPerIP = 3
	addr := serveLimits(t, cfg, nil)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	served := func(c net.Conn) bool {
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for i := 0; i < cfg.MaxConnsPerIP; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		if !served(c) {
			t.Fatalf("connection %d under the cap not served", i+1)
		}
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if served(extra) {
		t.Fatal("a connection beyond the cap was served")
	}
	extra.Close()
	held[0].Close()
	held = held[1:]
	time.Sleep(100 * time.Millisecond) // let the server see the close
	again, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	held = append(held, again)
	if !served(again) {
		t.Fatal("no slot after a connection closed")
	}
}

// TestOversizeHeadersGetTheARMEnvelope sends headers past the limit: the
// answer is a 431 in the ARM error envelope, not Go's plain text.
func TestOversizeHeadersGetTheARMEnvelope(t *testing.T) {
	addr := serveLimits(t, DefaultConfig(), nil)
	req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("h", headerLimit+1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge ||
		env.Error.Code != "RequestHeaderFieldsTooLarge" {
		t.Fatalf("%d %+v %v", resp.StatusCode, env, err)
	}
}

func TestExistingDataDirectoryIsMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ensurePrivateDir(dir, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

// TestRouteBodyLimitOverridesTheServers checks that a route with a larger
// documented limit (the Data Collector API's 30 MB) takes bodies past the
// server's 4 MiB, and that other routes still refuse them.
func TestRouteBodyLimitOverridesTheServers(t *testing.T) {
	cfg := DefaultConfig()
	s := New(cfg, slog.New(slog.DiscardHandler))
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprint(w, n)
	})
	s.Router.Handle(Route{Name: "big", Match: func(r *http.Request) bool { return r.URL.Path == "/big" }, Handler: read, MaxBodyBytes: 30 << 20})
	s.Router.HandlePrefix("small", "/small", read)
	body := strings.Repeat("x", 5<<20)
	for _, c := range []struct {
		path string
		want int
	}{{"/big", http.StatusOK}, {"/small", http.StatusRequestEntityTooLarge}} {
		rec := do(s.Handler(), "POST", c.path, body)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d", c.path, rec.Code, c.want)
		}
	}
}
