package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/server"
)

// serveCloud serves a Steward over TLS on a loopback port until the test
// ends and returns its data directory. It mounts the services given, or
// the management API alone.
func serveCloud(t *testing.T, services ...server.Service) (string, *server.Steward) {
	t.Helper()
	for _, k := range []string{"AZURE_RESOURCE_MANAGER_ENDPOINT", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_SUBSCRIPTION_ID", "STEWARD_DATA"} {
		t.Setenv(k, "")
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	// A root key of the test's own, which the CLI commands below read too
	// (root-key rotate must not rewrite the user's key file).
	cfg.RootKeyFile = filepath.Join(t.TempDir(), "root.key")
	t.Setenv("STEWARD_ROOT_KEY_FILE", cfg.RootKeyFile)
	t.Setenv("STEWARD_ROOT_KEY", "")
	t.Setenv("STEWARD_VAULT_ROOT_KEY", "")
	if len(services) == 0 {
		services = []server.Service{server.CloudService()}
	}
	s, err := server.Open(context.Background(), cfg, nil, services...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return")
		}
	})
	return cfg.DataDir, s
}

func TestGroupAndResourceCommandsDriveTheAPI(t *testing.T) {
	dir, s := serveCloud(t)
	_, must := cliOn(t, dir)
	out := must("group", "create", "cli-rg", "--location", "westeurope", "--tag", "env=dev")
	if !strings.Contains(out, "cli-rg") || !strings.Contains(out, "env=dev") || !strings.Contains(out, "Succeeded") {
		t.Errorf("group create:\n%s", out)
	}
	must("group", "create", "other-rg", "-l", "northeurope")
	out = must("group", "list", "--tag", "env=dev", "-o", "json")
	var groups []struct{ Name string }
	if err := json.Unmarshal([]byte(out), &groups); err != nil || len(groups) != 1 || groups[0].Name != "cli-rg" {
		t.Errorf("group list --tag: %v\n%s", err, out)
	}
	out = must("resource", "create", "-g", "cli-rg", "--type", "Microsoft.Web/sites", "-n", "site1", "-l", "westeurope",
		"--properties", `{"httpsOnly":true}`, "--tag", "app=one")
	if !strings.Contains(out, "site1") || !strings.Contains(out, "Microsoft.Web/sites") {
		t.Errorf("resource create:\n%s", out)
	}
	id := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/cli-rg/providers/Microsoft.Web/sites/site1"
	out = must("resource", "show", id, "-o", "json")
	var res struct {
		ID         string
		Properties map[string]any
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.ID != id || res.Properties["httpsOnly"] != true {
		t.Errorf("resource show: %v\n%s", err, out)
	}
	out = must("resource", "list", "-g", "cli-rg")
	if !strings.Contains(out, "site1") || !strings.Contains(out, "app=one") {
		t.Errorf("resource list:\n%s", out)
	}
	must("resource", "delete", id)
	if out, err := runCLI(t, "resource", "show", id, "--data", dir); err == nil {
		t.Errorf("show after delete succeeded:\n%s", out)
	} else if ex, ok := err.(*exitError); !ok || !strings.Contains(ex.msg, "ResourceNotFound") {
		t.Errorf("show after delete: %v", err)
	}
	must("group", "delete", "cli-rg", "--yes")
	if _, err := runCLI(t, "group", "show", "cli-rg", "--data", dir); err == nil {
		t.Error("show of a deleted group succeeded")
	}
}
