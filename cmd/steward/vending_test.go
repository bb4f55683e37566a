package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVendingCLI(t *testing.T) {
	dir, s := serveCloud(t, serveServices(policyproviderOptions{}, nil)...)
	sub := s.Bootstrap.SubscriptionID
	me := s.Bootstrap.ObjectID
	other, err := s.Identity.CreateTenant(context.Background(), "Fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(t.TempDir(), "sub.json")
	if err := os.WriteFile(spec, []byte(`{"subscriptionId":"`+sub+`","displayName":"home",
	  "executionContext":{"tenantId":"`+s.Bootstrap.TenantID+`","clientId":"`+s.Bootstrap.ClientID+`","vaultUrl":"https://steward.vault.azure.net","certificateName":"exec"},
	  "tags":[{"name":"Owner","required":true}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		code int
		says []string
	}{
		{[]string{"vending", "catalog", "subscription", "add", spec}, 0, []string{sub}},
		{[]string{"vending", "catalog", "subscription", "add", filepath.Join(dir, "missing.json")}, 2, []string{"missing.json"}},
		{[]string{"vending", "catalog", "authorization", "add", "--principal", me, "--subscription-id", sub,
			"--cost-center", "cc1", "--environment", "dev", "--region", "westeurope"}, 0, []string{me}},
		{[]string{"vending", "catalog", "authorization", "add", "--principal", me, "--subscription-id", sub, "--cost-center", "cc1"}, 2, []string{"InvalidAuthorization"}},
		{[]string{"vending", "catalog", "list"}, 0, []string{"subscription", "authorization", "cc=cc1 env=dev region=westeurope"}},
		{[]string{"rg", "options"}, 0, []string{"SUBSCRIPTION", sub, "home"}},
		{[]string{"rg", "options", sub, "-o", "json"}, 0, []string{`"environments": [`, `"dev"`, `"cc1"`, `"westeurope"`}},
		{[]string{"rg", "request", "web", "--subscription-id", sub, "--environment", "prod", "--cost-center", "cc1", "--region", "westeurope", "--tag", "Owner=me"},
			1, []string{"NotAuthorized", "environment 'prod'"}},
		{[]string{"rg", "request", "web", "--subscription-id", sub, "--environment", "dev", "--cost-center", "cc1", "--region", "westeurope"},
			2, []string{"MissingTag", "Owner"}},
		{[]string{"rg", "request", "web", "--subscription-id", sub, "--environment", "dev"}, 2, []string{"--cost-center"}},
		{[]string{"rg", "list"}, 0, []string{"ID", "STATUS"}},
		{[]string{"rg", "status", "0123456789abcdef01234567"}, 1, []string{"RequestNotFound"}},
		{[]string{"rg", "requests", "--pending"}, 0, []string{"ID", "REQUESTED BY", "APPROVER GROUP"}},
		{[]string{"rg", "requests", "-o", "json"}, 0, []string{"["}},
		{[]string{"rg", "approve", "0123456789abcdef01234567", "--reason", "ok"}, 1, []string{"RequestNotFound"}},
		{[]string{"rg", "reject", "0123456789abcdef01234567"}, 1, []string{"RequestNotFound"}},
		{[]string{"rg", "approve"}, 2, []string{"accepts 1 arg"}},
		{[]string{"vending", "consent", "--tenant-id", other.ID}, 0, []string{"INTERNAL API PRINCIPAL", other.ID}},
		{[]string{"vending", "consent", "--tenant-id", "00000000-0000-0000-0000-0000000000f1"}, 1, []string{"TenantNotFound"}},
		{[]string{"vending", "consent", "--tenant-id", "fabrikam"}, 2, []string{"InvalidTenantId"}},
		{[]string{"vending", "consent"}, 2, []string{"--tenant-id"}},
	}
	for _, st := range steps {
		out, err := runCLI(t, append(st.args, "--data", dir)...)
		text := out + errText(err)
		if exitCode(err) != st.code {
			t.Fatalf("%v: exit %d, want %d: %s", st.args, exitCode(err), st.code, text)
		}
		for _, s := range st.says {
			if !strings.Contains(text, s) {
				t.Errorf("%v: %q not in %s", st.args, s, text)
			}
		}
	}
	out, err := runCLI(t, "vending", "catalog", "list", "-o", "json", "--data", dir)
	var cat map[string][]map[string]any
	if err != nil || json.Unmarshal([]byte(out), &cat) != nil || len(cat["subscriptions"]) != 1 || len(cat["authorizations"]) != 1 {
		t.Fatalf("catalog list -o json: %v %s", err, out)
	}
}
