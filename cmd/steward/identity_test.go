package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestIdentityCommandsDriveGraph(t *testing.T) {
	dir, _ := serveCloud(t)
	run, must := cliOn(t, dir)
	obj := func(args ...string) map[string]any {
		t.Helper()
		var m map[string]any
		out := must(append(args, "-o", "json")...)
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return m
	}
	app := obj("identity", "app", "create", "billing", "--identifier-uri", "api://billing")
	appID := app["appId"].(string)
	if out := must("identity", "app", "list", "--filter", "displayName eq 'billing'"); !strings.Contains(out, appID) || !strings.Contains(out, "APPID") {
		t.Errorf("app list table:\n%s", out)
	}
	if sec := obj("identity", "app", "secret", "add", appID, "--name", "ci", "--days", "30"); len(sec["secretText"].(string)) < 30 {
		t.Errorf("secret add: %v", sec)
	}
	sp := obj("identity", "sp", "create", appID)
	fic := obj("identity", "app", "federated", "add", appID, "--name", "main", "--issuer", "https://token.actions.githubusercontent.com", "--subject", "repo:a/b:ref:refs/heads/main")
	if fic["audiences"].([]any)[0] != "api://AzureADTokenExchange" {
		t.Errorf("federated add: %v", fic)
	}
	must("identity", "group", "create", "team-a", "--description", "Team A")
	user := obj("identity", "user", "create", "ann@steward.test", "--display-name", "Ann", "--password", "Corr3ct-Horse!")
	must("identity", "group", "member", "add", "team-a", sp["id"].(string))
	must("identity", "group", "member", "add", "team-a", user["id"].(string))
	if out := must("identity", "group", "member", "list", "team-a"); !strings.Contains(out, "servicePrincipal") || !strings.Contains(out, "Ann") {
		t.Errorf("member list:\n%s", out)
	}
	if out := must("identity", "user", "groups", "ann@steward.test"); !strings.Contains(out, "team-a") {
		t.Errorf("user groups:\n%s", out)
	}
	must("identity", "role", "assign", "Groups Administrator", user["id"].(string))
	if out := must("identity", "role", "list"); !strings.Contains(out, "Groups Administrator") || !strings.Contains(out, "Global Administrator") {
		t.Errorf("role list:\n%s", out)
	}
	tenant := obj("tenant", "create", "Fabrikam", "--domain", "fabrikam.test")
	if tenant["clientSecret"] == "" || tenant["tenantId"] == "" {
		t.Errorf("tenant create: %v", tenant)
	}
	if out := must("tenant", "list"); !strings.Contains(out, "Fabrikam") {
		t.Errorf("tenant list:\n%s", out)
	}
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"identity", "app", "show", "6f1c2a3b-0000-4000-8000-000000000000"}, 1},
		{[]string{"identity", "user", "create", "bob@steward.test", "--display-name", "Bob", "--password", "weak"}, 2},
		{[]string{"identity", "role", "assign", "Chief Wizard", user["id"].(string)}, 2},
		{[]string{"identity", "group", "member", "add", "team-a", sp["id"].(string)}, 2}, // already a member
	}
	for _, tc := range cases {
		out, err := run(tc.args...)
		var ex *exitError
		if !errors.As(err, &ex) || ex.code != tc.code {
			t.Errorf("steward %s: %v (%+v), want exit %d\n%s", strings.Join(tc.args, " "), err, ex, tc.code, out)
		}
	}
	must("identity", "user", "delete", "ann@steward.test")
	must("identity", "group", "delete", "team-a")
	must("identity", "app", "delete", appID)
}
