package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Store(); got != "sqlite:"+filepath.Join(DefaultDataDir(), "steward.db") {
		t.Errorf("default store %q", got)
	}
	if got := c.BaseURL("127.0.0.1:8443"); got != "https://localhost:8443/" {
		t.Errorf("BaseURL = %q", got)
	}
}

func TestConfigPrecedenceFileThenEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:9000\nlogLevel: debug\nshutdownTimeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"STEWARD_LISTEN": "127.0.0.1:9100", "STEWARD_INSECURE_HTTP": "true"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9100" || c.LogLevel != "debug" || c.ShutdownTimeout != 3*time.Second || !c.InsecureHTTP {
		t.Errorf("config = %+v", c)
	}
	if got := c.BaseURL("127.0.0.1:9100"); got != "http://localhost:9100/" {
		t.Errorf("BaseURL = %q", got)
	}
}

func TestConfigRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory"},
		{"bad listen", func(c *Config) { c.Listen = "8443" }, "listen address"},
		{"public URL with path", func(c *Config) { c.PublicURL = "https://x/y" }, "public URL"},
		{"unknown store", func(c *Config) { c.StoreURL = "mysql://x" }, "store URL"},
		{"tiny body limit", func(c *Config) { c.MaxBodyBytes = 10 }, "max body"},
		{"token lifetime", func(c *Config) { c.TokenLifetime = time.Minute }, "token lifetime"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want mention of %q", err, tc.want)
			}
		})
	}
	bad := map[string]string{"STEWARD_MAX_BODY_BYTES": "lots"}
	c := DefaultConfig()
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := bad[k]; return v, ok }); err == nil {
		t.Error("LoadEnv accepted a non-number")
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	_ = os.WriteFile(path, []byte("lisen: x\n"), 0o600)
	if err := c.LoadFile(path); err == nil {
		t.Error("LoadFile accepted an unknown key")
	}
}
