package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQueryConfig reads the queries section of docs/logs.md's example, the
// environment overrides, and rejects what is out of range.
func TestQueryConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	yaml := "queries:\n  maxConcurrent: 3\n  maxQueued: 7\n  queueWait: 2m30s\n  memoryBytes: 268435456\n  maxWait: 10m\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	want := QueryConfig{MaxConcurrent: 3, MaxQueued: 7, QueueWait: 150 * time.Second, MemoryBytes: 256 << 20, MaxWait: 10 * time.Minute}
	if c.Queries != want {
		t.Fatalf("queries = %+v, want %+v", c.Queries, want)
	}
	env := map[string]string{"STEWARD_QUERY_MAX_CONCURRENT": "5", "STEWARD_QUERY_MEMORY_BYTES": "1048576"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Queries.MaxConcurrent != 5 || c.Queries.limits().MaxMemory != 1<<20 || c.Queries.gate() == nil {
		t.Errorf("after env: %+v", c.Queries)
	}
	for _, bad := range []QueryConfig{{MaxConcurrent: -1}, {MemoryBytes: 1000}, {MaxWait: -time.Second}} {
		c := DefaultConfig()
		c.Queries = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "queries") {
			t.Errorf("%+v: got %v, want a queries error", bad, err)
		}
	}
}

func TestARMThrottlingCanBeTurnedOff(t *testing.T) {
	var c Config
	if c.armRateLimits() != nil {
		t.Fatal("default config overrides Azure's throttling")
	}
	for _, v := range []string{"off", "on"} {
		env := map[string]string{"STEWARD_ARM_THROTTLING": v}
		if err := c.LoadEnv(func(k string) (string, bool) { x, ok := env[k]; return x, ok }); err != nil {
			t.Fatal(err)
		}
		if l := c.armRateLimits(); l == nil || l.Disabled != (v == "off") || l.Reads.Size == 0 {
			t.Fatalf("STEWARD_ARM_THROTTLING=%s: %+v", v, l)
		}
	}
	env := map[string]string{"STEWARD_ARM_THROTTLING": "maybe"}
	if err := c.LoadEnv(func(k string) (string, bool) { x, ok := env[k]; return x, ok }); err == nil {
		t.Fatal("STEWARD_ARM_THROTTLING=maybe accepted")
	}
}
