package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeRefusesWhatWouldGoWrong(t *testing.T) {
	for _, k := range []string{"STEWARD_DATA", "STEWARD_LISTEN", "STEWARD_CONFIG", "STEWARD_STORE"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("STEWARD_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		xdg     string
		args    []string
		code    int
		text    string
		created string // a path that must not exist afterwards
	}{
		{"default data directory inside a git work tree", filepath.Join(repo, "xdg"), []string{"serve", "--listen", busy.Addr().String()}, 2,
			"inside the git work tree", filepath.Join(repo, "xdg", "steward")},
		{"a busy port names --listen", t.TempDir(), []string{"serve", "--data", filepath.Join(repo, "data"), "--listen", busy.Addr().String()}, 2,
			"--listen", filepath.Join(repo, "data")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", tc.xdg)
			_, err := runCLI(t, tc.args...)
			if exitCode(err) != tc.code || !strings.Contains(errText(err), tc.text) {
				t.Fatalf("exit %d (%v), want %d with %q", exitCode(err), err, tc.code, tc.text)
			}
			if _, err := os.Stat(tc.created); !os.IsNotExist(err) {
				t.Errorf("%s was created", tc.created)
			}
		})
	}
}
