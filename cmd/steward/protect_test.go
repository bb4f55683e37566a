package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

// TestServeSurvivesTheREADMEGuardrails replays the issue: after the
// README's eu-only assignment, the built-in group is refused deletion by its
// lock, and a restart whose bootstrap recreates the group (here after a
// platform delete) is not denied by the user's policy.
func TestServeSurvivesTheREADMEGuardrails(t *testing.T) {
	for _, k := range []string{"AZURE_RESOURCE_MANAGER_ENDPOINT", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_SUBSCRIPTION_ID", "STEWARD_DATA"} {
		t.Setenv(k, "")
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.RootKeyFile = filepath.Join(t.TempDir(), "root.key")
	t.Setenv("STEWARD_ROOT_KEY_FILE", cfg.RootKeyFile)
	t.Setenv("STEWARD_ROOT_KEY", "")
	t.Setenv("STEWARD_VAULT_ROOT_KEY", "")
	ctx := context.Background()
	open := func() (*server.Steward, func()) {
		s, err := server.Open(ctx, cfg, nil, serveServices(policyproviderOptions{}, nil)...)
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(rctx) }()
		return s, func() { cancel(); <-done; s.Close() }
	}
	s, stop := open()
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	dir := cfg.DataDir
	if out, err := runCLI(t, "resource", "create", sub+"/providers/Microsoft.Authorization/policyDefinitions/rg-eu",
		"--api-version", "2023-04-01", "--data", dir, "--properties", `{"mode":"All","parameters":{"allowed":{"type":"Array"}},
  "policyRule":{"if":{"allOf":[{"field":"type","equals":"Microsoft.Resources/subscriptions/resourceGroups"},
  {"field":"location","notIn":"[parameters('allowed')]"}]},"then":{"effect":"deny"}}}`); err != nil {
		t.Fatalf("definition: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "policy", "assignment", "create", "eu-only", "--policy", "rg-eu",
		"--parameters", `{"allowed":["westeurope","northeurope"]}`, "--data", dir); err != nil {
		t.Fatalf("assignment: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "group", "create", "rg-us", "-l", "eastus", "--data", dir); exitCode(err) != 1 || !strings.Contains(errText(err), "RequestDisallowedByPolicy") {
		t.Fatalf("the guardrail must deny eastus: %v", err)
	}
	_, err := runCLI(t, "group", "delete", "steward", "--yes", "--data", dir)
	if exitCode(err) != 1 || !strings.Contains(errText(err), "ScopeLocked") {
		t.Fatalf("deleting Steward's own group: %v, want ScopeLocked", err)
	}
	// A platform delete (as an older Steward allowed) leaves the group to
	// the next start's bootstrap, which user policy must not deny.
	if _, _, err := s.Cloud.Delete(ctx, nil, cloud.DeleteRequest{ID: sub + "/resourceGroups/steward"}); err != nil {
		t.Fatal(err)
	}
	stop()
	s, stop = open()
	defer stop()
	locks, err := s.Cloud.Locks(ctx, sub+"/resourceGroups/steward/providers/Microsoft.KeyVault/vaults/steward", false)
	if err != nil || len(locks) != 1 || locks[0].Level != cloud.LockCanNotDelete {
		t.Errorf("the restarted Steward's vault is not under its CanNotDelete lock: %+v %v", locks, err)
	}
}

func errText(err error) string {
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.msg
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestConfirm(t *testing.T) {
	defer func(f func(*cobra.Command) bool) { stdinIsTerminal = f }(stdinIsTerminal)
	tests := []struct {
		name     string
		yes, tty bool
		input    string
		want     int
	}{
		{"--yes does not ask", true, false, "", 0},
		{"no terminal and no --yes is a usage error", false, false, "y\n", 2},
		{"y on a terminal", false, true, "y\n", 0},
		{"yes on a terminal", false, true, " YES \n", 0},
		{"anything else is no", false, true, "sure\n", 1},
		{"an empty answer is no", false, true, "\n", 1},
		{"end of input is no", false, true, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdinIsTerminal = func(*cobra.Command) bool { return tc.tty }
			cmd := &cobra.Command{Use: "delete"}
			cmd.Flags().Bool("yes", tc.yes, "")
			var errOut bytes.Buffer
			cmd.SetIn(strings.NewReader(tc.input))
			cmd.SetErr(&errOut)
			err := confirm(cmd, "Delete it?")
			if got := exitCode(err); got != tc.want {
				t.Errorf("exit %d, want %d (%v)", got, tc.want, err)
			}
			if tc.tty && !tc.yes && !strings.Contains(errOut.String(), "Delete it? [y/N]") {
				t.Errorf("the question was not asked: %q", errOut.String())
			}
		})
	}
}
