package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
)

func TestPolicyAssignmentCommandsDriveTheAPI(t *testing.T) {
	dir, s := serveAuthorization(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	defID := sub + "/providers/Microsoft.Authorization/policyDefinitions/allowed-locations"
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"name":"allowed-locations","type":"Microsoft.Authorization/policyDefinitions","properties":{
		"policyType":"Custom","mode":"Indexed","parameters":{"locs":{"type":"Array"}},
		"policyRule":{"if":{"not":{"field":"location","in":"[parameters('locs')]"}},"then":{"effect":"deny"}}}}`), &doc); err != nil {
		t.Fatal(err)
	}
	doc["id"] = defID
	if _, _, err := s.Cloud.Put(context.Background(), nil, cloud.PutRequest{ID: defID, Type: "Microsoft.Authorization/policyDefinitions", Doc: doc}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) { return runCLI(t, append(args, "--data", dir)...) }
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	var ee *exitError
	if _, err := run("policy", "assignment", "create", "locs", "--policy", "allowed-locations"); !asExit(err, &ee) || !strings.Contains(ee.msg, "MissingPolicyParameter") {
		t.Errorf("assignment without its parameter: %v", err)
	}
	out := must("policy", "assignment", "create", "locs", "--policy", "allowed-locations", "--params", `{"locs":["westeurope"]}`,
		"--enforcement-mode", "DoNotEnforce")
	if !strings.Contains(out, "allowed-locations") || !strings.Contains(out, "DoNotEnforce") {
		t.Errorf("create:\n%s", out)
	}
	out = must("policy", "assignment", "show", "locs", "-o", "json")
	var a struct {
		Properties struct {
			Parameters map[string]struct{ Value []string }
		}
	}
	if err := json.Unmarshal([]byte(out), &a); err != nil || len(a.Properties.Parameters["locs"].Value) != 1 {
		t.Errorf("show: %v\n%s", err, out)
	}
	if out := must("policy", "assignment", "list"); !strings.Contains(out, "locs") {
		t.Errorf("list:\n%s", out)
	}
	must("policy", "assignment", "delete", "locs")
	if _, err := run("policy", "assignment", "show", "locs"); !asExit(err, &ee) || !strings.Contains(ee.msg, "PolicyAssignmentNotFound") {
		t.Errorf("show after delete: %v", err)
	}
}
