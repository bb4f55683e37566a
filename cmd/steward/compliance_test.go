package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/server"
)

// serveCompliance serves a Steward with the compliance engine mounted and
// an audit assignment over a group of storage accounts, 3 of them
// non-compliant.
func serveCompliance(t *testing.T) (dir, sub string) {
	t.Helper()
	for _, k := range []string{"AZURE_RESOURCE_MANAGER_ENDPOINT", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_SUBSCRIPTION_ID", "STEWARD_DATA"} {
		t.Setenv(k, "")
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	var eng *insights.Engine
	setup := func(ctx context.Context, _ *server.Steward, c *cloud.Cloud) error {
		eng = insights.New(c, insights.Options{Poll: 50 * time.Millisecond, RetryAfter: 1})
		if err := eng.Mount(); err != nil {
			return err
		}
		eng.Start(ctx)
		return nil
	}
	s, err := server.Open(context.Background(), cfg, nil, server.CloudService(setup))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		eng.Stop()
		cancel()
		<-done
	})
	sub = s.Bootstrap.SubscriptionID
	put := func(id, typ string, doc map[string]any) {
		doc["id"], doc["type"], doc["name"] = id, typ, id[strings.LastIndexByte(id, '/')+1:]
		if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: typ, Doc: doc}); err != nil {
			t.Fatalf("put %s: %v", id, err)
		}
	}
	rg := "/subscriptions/" + sub + "/resourceGroups/data"
	put(rg, cloud.TypeResourceGroup, map[string]any{"location": "westeurope"})
	def := "/subscriptions/" + sub + "/providers/Microsoft.Authorization/policyDefinitions/https"
	put(def, insights.TypeDefinition, map[string]any{"properties": map[string]any{"mode": "All", "policyRule": map[string]any{
		"if": map[string]any{"allOf": []any{
			map[string]any{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
			map[string]any{"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "notEquals": true}}},
		"then": map[string]any{"effect": "audit"}}}})
	put("/subscriptions/"+sub+"/providers/Microsoft.Authorization/policyAssignments/audit-https", insights.TypeAssignment,
		map[string]any{"properties": map[string]any{"policyDefinitionId": def, "scope": "/subscriptions/" + sub}})
	for i := range 5 {
		put(fmt.Sprintf("%s/providers/Microsoft.Storage/storageAccounts/sa%d", rg, i), "Microsoft.Storage/storageAccounts",
			map[string]any{"location": "westeurope", "properties": map[string]any{"supportsHttpsTrafficOnly": i < 2}})
	}
	return cfg.DataDir, sub
}

func TestComplianceCommandsDriveTheAPI(t *testing.T) {
	dir, sub := serveCompliance(t)
	_, must := cliOn(t, dir)
	out := must("compliance", "trigger")
	if !strings.Contains(out, "/subscriptions/"+sub) || !strings.Contains(out, "Succeeded") {
		t.Errorf("trigger:\n%s", out)
	}
	out = must("compliance", "list", "--filter", "IsCompliant eq false")
	if strings.Count(out, "NonCompliant") != 3 || !strings.Contains(out, "3 states") {
		t.Errorf("list --filter:\n%s", out)
	}
	out = must("compliance", "list", "-g", "data", "--top", "2", "-o", "json")
	var states []struct {
		ResourceID      string `json:"resourceId"`
		ComplianceState string `json:"complianceState"`
	}
	if err := json.Unmarshal([]byte(out), &states); err != nil || len(states) != 2 {
		t.Errorf("list --top 2 -o json: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(must("compliance", "list", "--filter", "IsCompliant eq false", "--top", "1", "-o", "json")), &states); err != nil || len(states) != 1 {
		t.Fatalf("a non-compliant state: %v", err)
	}
	out = must("compliance", "list", "--resource", states[0].ResourceID, "--expand", "PolicyEvaluationDetails", "-o", "json")
	if !strings.Contains(out, `"policyEvaluationDetails"`) {
		t.Errorf("list --resource --expand PolicyEvaluationDetails has no details:\n%s", out)
	}
	out = must("compliance", "list", "--apply", "groupby((ComplianceState), aggregate($count as N))")
	if !strings.Contains(out, "N") || !strings.Contains(out, "3") || !strings.Contains(out, "2") {
		t.Errorf("list --apply:\n%s", out)
	}
	out = must("compliance", "list", "--definition", "https", "--filter", "IsCompliant eq true")
	if !strings.Contains(out, "2 states") {
		t.Errorf("list --definition:\n%s", out)
	}
	out = must("compliance", "summarize", "--assignment", "audit-https", "-o", "json")
	if !strings.Contains(out, `"nonCompliantResources": 3`) {
		t.Errorf("summarize --assignment:\n%s", out)
	}
	out = must("compliance", "summarize")
	if !strings.Contains(out, "audit-https") || !strings.Contains(out, "noncompliant=3") {
		t.Errorf("summarize:\n%s", out)
	}
	_, err := runCLI(t, "compliance", "list", "--filter", "IsCompliant eq", "--data", dir)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(ee.msg, "InvalidQueryParameterValue") {
		t.Errorf("a malformed filter: %v", err)
	}
}

// TestComplianceRefusesFlagsItCannotHonour: a flag the request would drop
// is an input error, before any request is sent.
func TestComplianceRefusesFlagsItCannotHonour(t *testing.T) {
	t.Setenv("STEWARD_DATA", t.TempDir()) // nothing listens: refusal comes first
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"expand at the subscription", []string{"list", "--expand", "PolicyEvaluationDetails"}, "--expand needs --resource"},
		{"expand at a group", []string{"list", "-g", "data", "--expand", "PolicyEvaluationDetails"}, "--expand needs --resource"},
		{"two scopes", []string{"list", "--resource", "/subscriptions/s/resourceGroups/g/providers/A.B/c/d", "--management-group", "mg"}, "--management-group and --resource"},
		{"group with definition", []string{"summarize", "-g", "data", "--definition", "https"}, "--definition and --resource-group"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCLI(t, append([]string{"compliance"}, tc.args...)...)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, tc.want) {
				t.Errorf("got %v, want exit 2 with %q", err, tc.want)
			}
		})
	}
}
