package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReportNetwork(t *testing.T) {
	out, err := runCLI(t, "report", "network", "../../examples/reports/network-estate.json", "-o", "json")
	if ex, ok := err.(*exitError); !ok || ex.code != exitNo {
		t.Fatalf("exposure of SSH should exit 1: %v\n%s", err, out)
	}
	var findings []struct{ Kind, Severity, ResourceID string }
	if err := json.Unmarshal([]byte(out), &findings); err != nil || len(findings) != 3 {
		t.Fatalf("findings: %v\n%s", err, out)
	}
	if findings[0].Severity != "high" || !strings.HasSuffix(findings[0].ResourceID, "jump1-nic") {
		t.Errorf("first finding: %+v", findings[0])
	}
	if _, err := runCLI(t, "report", "network", "../../examples/reports/network-estate.json", "--fail-on", "none"); err != nil {
		t.Errorf("--fail-on none: %v", err)
	}
	if _, err := runCLI(t, "report", "network", "../../examples/reports/missing.json"); err == nil {
		t.Error("a missing estate file was accepted")
	} else if ex, ok := err.(*exitError); !ok || ex.code != exitUsage {
		t.Errorf("a missing estate file: %v", err)
	}
}

func TestReportLogging(t *testing.T) {
	out, err := runCLI(t, "report", "logging", "../../examples/reports/logging-estate.json", "-o", "json")
	if ex, ok := err.(*exitError); !ok || ex.code != exitNo {
		t.Fatalf("resources without logs should exit 1: %v\n%s", err, out)
	}
	var findings []struct{ Kind, ResourceID string }
	if err := json.Unmarshal([]byte(out), &findings); err != nil || len(findings) != 3 {
		t.Fatalf("findings: %v\n%s", err, out)
	}
	for _, f := range findings {
		if strings.HasSuffix(f.ResourceID, "payments-kv") || strings.HasSuffix(f.ResourceID, "web1") {
			t.Errorf("a resource with log collection was reported: %+v", f)
		}
	}
}
