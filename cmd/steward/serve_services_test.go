package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/server"
)

// The services steward serve mounts work together: policy assignments are
// enforced on writes (Microsoft.Authorization + policy provider), their
// compliance is recorded (Policy Insights), and the vault and logs answer.
func TestServeServicesEnforceRecordAndServe(t *testing.T) {
	var eng *insights.Engine
	dir, s := serveCloud(t, serveServices(policyproviderOptions{insightsReady: func(e *insights.Engine) { eng = e }}, nil)...)
	t.Cleanup(func() {
		if eng != nil {
			eng.Stop()
		}
	})
	if eng == nil {
		t.Fatal("the compliance engine was not started")
	}
	run, must := cliOn(t, dir)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	must("resource", "create", sub+"/providers/Microsoft.Authorization/policyDefinitions/rg-locations", "--api-version", "2023-04-01",
		"--properties", `{"mode":"All","parameters":{"allowed":{"type":"Array"}},"policyRule":{"if":{"allOf":[
{"field":"type","equals":"Microsoft.Resources/subscriptions/resourceGroups"},{"field":"location","notIn":"[parameters('allowed')]"}]},
"then":{"effect":"deny"}}}`)
	must("policy", "assignment", "create", "eu-only", "--policy", "rg-locations", "--params", `{"allowed":["westeurope"]}`)

	out, err := run("group", "create", "rg-us", "-l", "eastus")
	var ee *exitError
	if !errors.As(err, &ee) || !strings.Contains(ee.msg+out, "RequestDisallowedByPolicy") {
		t.Errorf("group in a disallowed location: err %v, output %s; want RequestDisallowedByPolicy", err, out)
	}
	must("group", "create", "rg-eu", "-l", "westeurope")

	out = must("compliance", "list", "-o", "json")
	if !strings.Contains(out, "/resourceGroups/rg-eu") || !strings.Contains(out, `"Compliant"`) {
		t.Errorf("compliance list has no Compliant state for rg-eu:\n%s", out)
	}

	must("vault", "secret", "set", "--name", "db-password", "--value", "s3cr3t-value")
	if out := must("vault", "secret", "show", "--name", "db-password", "-o", "json"); !strings.Contains(out, "s3cr3t-value") {
		t.Errorf("vault secret show:\n%s", out)
	}
	if out := must("logs", "workspace", "create", "ws1", "-g", "rg-eu", "-l", "westeurope"); !strings.Contains(out, "ws1") {
		t.Errorf("logs workspace create:\n%s", out)
	}
	if _, err := os.Stat(server.CAPath(dir)); err != nil {
		t.Errorf("no local CA in the data directory: %v", err)
	}
}
