package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/server"
)

func TestAlertCommandsDriveTheAPI(t *testing.T) {
	dir, s := serveCloud(t, server.CloudService(), server.LogsService(), server.AlertsService(server.AlertsOptions{Disabled: true}))
	_, must := cliOn(t, dir)
	must("group", "create", "mon", "-l", "westeurope")
	must("resource", "create", "-g", "mon", "--type", "Microsoft.OperationalInsights/workspaces", "-n", "ws", "-l", "westeurope", "--properties", `{}`)
	out := must("alert", "group", "create", "oncall", "-g", "mon", "--webhook", "tickets=https://tickets.example/hook", "--email", "me=me@example.com")
	if !strings.Contains(out, "webhook:tickets") || !strings.Contains(out, "email:me") {
		t.Errorf("group create:\n%s", out)
	}
	out = must("alert", "rule", "create", "violations", "-g", "mon", "--workspace", "ws", "--query", "T | where ok == false",
		"--dimension", "Assignment", "--action-group", "oncall", "--severity", "2", "--property", "team=platform")
	if !strings.Contains(out, "violations") || !strings.Contains(out, "Sev2") || !strings.Contains(out, "Count GreaterThan 0") {
		t.Errorf("rule create:\n%s", out)
	}
	out = must("alert", "rule", "list", "-o", "json")
	var rules []struct {
		ID         string
		Properties struct {
			Scopes  []string
			Actions struct{ ActionGroups []string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rules); err != nil || len(rules) != 1 ||
		!strings.HasSuffix(rules[0].Properties.Scopes[0], "/workspaces/ws") || !strings.HasSuffix(rules[0].Properties.Actions.ActionGroups[0], "/actionGroups/oncall") {
		t.Errorf("rule list: %v\n%s", err, out)
	}
	// The service refuses what it cannot evaluate, with its message.
	_, err := runCLI(t, "alert", "rule", "create", "bad", "-g", "mon", "--workspace", "ws", "--query", "T", "--frequency", "PT7M", "--data", dir)
	if ex, ok := err.(*exitError); !ok || !strings.Contains(ex.msg, "Supported granularities") {
		t.Errorf("rule with a 7-minute frequency: %v", err)
	}
	out = must("alert", "list", "-o", "json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("alert list with no alerts: %s", out)
	}
	if _, err := runCLI(t, "alert", "ack", "6b2f3c1e-0000-4000-8000-000000000001", "--data", dir); err == nil {
		t.Error("acknowledging a missing alert succeeded")
	}
	if out = must("alert", "rule", "show", "violations", "-g", "mon", "-o", "json"); !strings.HasPrefix(strings.TrimSpace(out), "{") || !strings.Contains(out, `"name": "violations"`) {
		t.Errorf("rule show:\n%s", out)
	}
	if out = must("alert", "rule", "list", "-g", "mon"); !strings.Contains(out, "violations") || !strings.Contains(out, "Sev2") {
		t.Errorf("rule list -g:\n%s", out)
	}
	must("alert", "rule", "delete", "violations", "-g", "mon")
	if _, err := runCLI(t, "alert", "rule", "delete", "violations", "-g", "mon", "--data", dir); err == nil {
		t.Error("deleting a missing rule succeeded")
	}
	if _, err := runCLI(t, "alert", "rule", "show", "violations", "--data", dir); err == nil || !strings.Contains(err.Error(), "--resource-group") {
		t.Errorf("rule show without -g: %v", err)
	}
	// Action groups: list (by group and subscription), show, delete.
	for _, args := range [][]string{{"alert", "group", "list", "-g", "mon"}, {"alert", "group", "list"}} {
		if out = must(args...); !strings.Contains(out, "oncall") || !strings.Contains(out, "webhook:tickets, email:me") {
			t.Errorf("%s:\n%s", strings.Join(args, " "), out)
		}
	}
	if out = must("alert", "group", "show", "oncall", "-g", "mon", "-o", "json"); !strings.HasPrefix(strings.TrimSpace(out), "{") || !strings.Contains(out, `"groupShortName": "oncall"`) {
		t.Errorf("group show:\n%s", out)
	}
	must("alert", "group", "delete", "oncall", "-g", "mon")
	if _, err := runCLI(t, "alert", "group", "delete", "oncall", "-g", "mon", "--data", dir); err == nil {
		t.Error("deleting a missing action group succeeded")
	}
	if out = must("alert", "group", "list", "-g", "mon", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("group list after the delete: %s", out)
	}
	_ = s
}
