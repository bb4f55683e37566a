package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const scanExamples = "../../examples/scan"

func scanArgs(extra ...string) []string {
	return append([]string{"policy", "scan", filepath.Join(scanExamples, "estate.json"),
		"--policy", filepath.Join(scanExamples, "policies"), "--parameters", filepath.Join(scanExamples, "parameters.json")}, extra...)
}

func TestPolicyScanExitStatus(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	https := filepath.Join(scanExamples, "policies", "storage-https.json")
	tag := filepath.Join(scanExamples, "policies", "rg-owner-tag.json")
	estate := filepath.Join(scanExamples, "estate.json")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"non-compliant fails by default", scanArgs(), 1},
		{"fail-on none", scanArgs("--fail-on", "none"), 0},
		{"fail-on deny with a deny", []string{"policy", "scan", estate, "--policy", https, "--fail-on", "deny"}, 1},
		{"fail-on deny with audits only", []string{"policy", "scan", estate, "--policy", tag, "--fail-on", "deny"}, 0},
		{"fail-on error without errors", scanArgs("--fail-on", "error"), 0},
		{"DoNotEnforce denies nothing", []string{"policy", "scan", estate, "--policy", https, "--enforcement-mode", "DoNotEnforce", "--fail-on", "deny"}, 0},
		{"scope without resources", []string{"policy", "scan", estate, "--policy", https, "--scope", "/subscriptions/other"}, 0},
		{"bad fail-on", scanArgs("--fail-on", "sometimes"), 2},
		{"no policies", []string{"policy", "scan", estate}, 2},
		{"missing estate", []string{"policy", "scan", "nope.json", "--policy", https}, 2},
		{"diff: a resource becomes non-compliant", []string{"policy", "scan", "--diff", filepath.Join(scanExamples, "initiative", "v1.json"),
			filepath.Join(scanExamples, "initiative", "v2.json"), estate, "--definitions", filepath.Join(scanExamples, "policies")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runPolicyCLI(t, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d; output:\n%s", code, tc.want, out)
			}
		})
	}
}

func TestPolicyScanOutputs(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, format := range []string{"table", "json", "csv", "sarif"} {
		t.Run(format, func(t *testing.T) {
			out, code := runPolicyCLI(t, scanArgs("-o", format, "--fail-on", "none")...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			switch format {
			case "json", "sarif":
				if !json.Valid([]byte(out)) {
					t.Errorf("%s output is not JSON:\n%s", format, out)
				}
			case "csv":
				if !strings.HasPrefix(out, "record,resourceId,") {
					t.Errorf("csv output:\n%s", out)
				}
			default:
				if !strings.Contains(out, "legacylogs") {
					t.Errorf("table output lacks the non-compliant account:\n%s", out)
				}
			}
		})
	}
}

func TestPolicyScanReadsStandardInput(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	data, err := os.ReadFile(filepath.Join(scanExamples, "estate.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(bytes.NewReader(data))
	root.SetArgs([]string{"policy", "scan", "-", "--policy", filepath.Join(scanExamples, "policies", "storage-https.json"), "-o", "json"})
	err = root.Execute()
	var ex *exitError
	if !errors.As(err, &ex) || ex.code != 1 {
		t.Fatalf("err %v, want exit 1; output:\n%s", err, out.String())
	}
	var doc struct {
		Summary struct {
			Resources int `json:"resources"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Summary.Resources != 9 {
		t.Errorf("summary %+v, err %v:\n%s", doc.Summary, err, out.String())
	}
}

func TestPolicyScanProgress(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, code := runPolicyCLI(t, scanArgs("--progress", "--fail-on", "none", "-o", "csv")...)
	if code != 0 || !strings.Contains(out, "scanned 9 resources in ") || !strings.Contains(out, "/s)") {
		t.Errorf("exit %d; output lacks the progress report:\n%s", code, out)
	}
	out, _ = runPolicyCLI(t, scanArgs("--fail-on", "none", "-o", "csv")...)
	if strings.Contains(out, "scanned 9 resources in ") {
		t.Errorf("progress written without --progress to a non-terminal:\n%s", out)
	}
}

func TestPolicyScanStats(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, code := runPolicyCLI(t, scanArgs("--stats", "--fail-on", "none", "-o", "csv")...)
	if code != 0 || !strings.Contains(out, "stats: 9 records in ") || !strings.Contains(out, " loading the policies): read ") ||
		!strings.Contains(out, ", parse ") ||
		!strings.Contains(out, ", evaluate ") || !strings.Contains(out, ", report ") {
		t.Errorf("exit %d; output lacks the time split:\n%s", code, out)
	}
	out, _ = runPolicyCLI(t, scanArgs("--fail-on", "none", "-o", "csv")...)
	if strings.Contains(out, "stats: ") {
		t.Errorf("stats written without --stats:\n%s", out)
	}
}

func TestPolicyScanTruncatedEstate(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	data, err := os.ReadFile(filepath.Join(scanExamples, "estate.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "truncated.json")
	if err := os.WriteFile(path, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runPolicyCLI(t, "policy", "scan", path, "--policy", filepath.Join(scanExamples, "policies", "storage-https.json"))
	if code != 2 || !strings.Contains(out, "input stopped early") || !strings.Contains(out, "legacylogs") ||
		!strings.Contains(out, "the records before it were scanned and reported") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}
