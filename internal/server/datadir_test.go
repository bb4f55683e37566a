package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSecondServeOnTheSameDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := Open(ctx, testConfig(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	boot := filepath.Join(dir, "bootstrap.json")
	before, err := os.ReadFile(boot)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, testConfig(dir), nil)
	if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second Open: %v, want ErrDataDirInUse naming pid %d", err, os.Getpid())
	}
	if after, _ := os.ReadFile(boot); string(after) != string(before) {
		t.Error("the refused serve rewrote bootstrap.json")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, testConfig(dir), nil)
	if err != nil {
		t.Fatalf("Open after the first closed: %v", err)
	}
	again.Close()
}

func TestPostgresReplicasShareADataDir(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StoreURL = "postgres://postgres@127.0.0.1:5432/test"
	for i := range 2 {
		l, err := openDataDir(cfg, slog.New(slog.DiscardHandler))
		if err != nil || l != nil {
			t.Fatalf("replica %d: lock %v, err %v; PostgreSQL replicas take no data-directory lock", i, l, err)
		}
	}
}

func TestBusyPortCreatesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig(filepath.Join(t.TempDir(), "data"))
	cfg.Listen = busy.Addr().String()
	_, err = Open(context.Background(), cfg, nil)
	var le *ListenError
	if !errors.As(err, &le) || le.Addr != cfg.Listen {
		t.Fatalf("Open on a busy port: %v, want a ListenError", err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a busy port left the data directory behind: %v", err)
	}
}

func TestDefaultDataDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct{ xdg, want string }{
		{"/srv/xdg", "/srv/xdg/steward"},
		{"", filepath.Join(home, ".local", "share", "steward")},
		{"relative/ignored", filepath.Join(home, ".local", "share", "steward")},
	}
	for _, tc := range tests {
		t.Setenv("XDG_DATA_HOME", tc.xdg)
		if got := DefaultDataDir(); got != tc.want {
			t.Errorf("XDG_DATA_HOME=%q: %s, want %s", tc.xdg, got, tc.want)
		}
	}
}

func TestGitWorkTree(t *testing.T) {
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	for path, want := range map[string]string{
		filepath.Join(repo, "steward-data"):      repo,
		filepath.Join(repo, "a", "b", "not-yet"): repo,
		filepath.Join(outside, "steward-data"):   "",
	} {
		if got := GitWorkTree(path); got != want {
			t.Errorf("GitWorkTree(%s) = %q, want %q", path, got, want)
		}
	}
}
