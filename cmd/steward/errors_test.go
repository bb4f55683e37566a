package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/steward-gov/steward/internal/cloud"
)

// responseError builds the SDK error a client returns for an HTTP answer.
func responseError(status int, body string) error {
	resp := &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: &http.Request{Method: http.MethodPut, URL: &url.URL{Scheme: "https", Host: "localhost:8443", Path: "/subscriptions/s/resourcegroups/rg"}}}
	resp.Header.Set("Content-Type", "application/json")
	return runtime.NewResponseError(resp)
}

func TestErrorsMapToOneExitTable(t *testing.T) {
	deny := `{"error":{"code":"RequestDisallowedByPolicy","message":"Resource 'rg' was disallowed by policy. Reasons: 'The \"allowed\" list excludes eastus'.",
		"additionalInfo":[{"type":"PolicyViolation","info":{"policyAssignmentName":"eu-only","policyDefinitionName":"rg-eu",
		"policyDefinitionDisplayName":"Groups in \"Europe\"","policyAssignmentId":"/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/eu-only"}}]}}`
	tests := []struct {
		name string
		err  error
		code int
		want []string
	}{
		{"exit error", &exitError{code: exitNo, msg: "3 failed"}, exitNo, []string{"3 failed"}},
		{"policy deny names the policy and keeps quotes", responseError(403, deny), exitNo,
			[]string{"RequestDisallowedByPolicy (HTTP 403)", `The "allowed" list excludes eastus`, "assignment eu-only", `"Groups in \"Europe\"" (rg-eu)`}},
		{"not found", responseError(404, `{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'x' could not be found."}}`), exitNo,
			[]string{"ResourceGroupNotFound (HTTP 404)", "'x' could not be found."}},
		{"malformed request is an input error", responseError(400, `{"error":{"code":"InvalidRequestContent","message":"bad JSON","details":[{"code":"Inner","message":"at line 3"}]}}`), exitUsage,
			[]string{"InvalidRequestContent (HTTP 400): bad JSON", "Inner: at line 3"}},
		{"vault error is one envelope, not an SDK dump", responseError(404, `{"error":{"code":"SecretNotFound","message":"A secret with (name/id) db was not found in this key vault."}}`), exitNo,
			[]string{"SecretNotFound (HTTP 404): A secret with (name/id) db was not found"}},
		{"a body that is not the envelope is shown", responseError(403, `{"Error":"InvalidAuthorization","Message":"bad signature"}`), exitNo,
			[]string{"HTTP 403", "bad signature"}},
		{"refused connection", fmt.Errorf("GET: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), exitUnreachable,
			[]string{"cannot reach Steward"}},
		{"stopped server", &unreachableError{url: "https://localhost:8443/", dataDir: "d"}, exitUnreachable,
			[]string{"Steward is not running at https://localhost:8443/: start it with `steward serve --data d`"}},
		{"anything else is an input error", errors.New("tag \"x\": want key=value"), exitUsage, []string{`error: tag "x": want key=value`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := renderError(&out, tc.err); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "RESPONSE") || strings.Contains(out.String(), "-----") {
				t.Errorf("output is an SDK dump:\n%s", out.String())
			}
		})
	}
}

func TestStoppedServerFailsAtOnceWithExit3(t *testing.T) {
	dir, _ := bootstrapDir(t)
	for _, k := range []string{"AZURE_RESOURCE_MANAGER_ENDPOINT", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "STEWARD_DATA"} {
		t.Setenv(k, "")
	}
	// Point bootstrap.json at a loopback port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "https://" + l.Addr().String() + "/"
	l.Close()
	path := filepath.Join(dir, "bootstrap.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range doc {
		if s, ok := v.(string); ok && s == "https://localhost:8443/" {
			doc[k] = endpoint
		}
	}
	raw, _ = json.Marshal(doc)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"group", "list"},
		{"vault", "secret", "list"},
		{"logs", "workspace", "list"},
		{"compliance", "list"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := runCLI(t, append(args, "--data", dir)...)
			msg, code := classifyError(err)
			if code != exitUnreachable || !strings.Contains(msg, "Steward is not running at "+endpoint) || !strings.Contains(msg, "steward serve --data "+dir) {
				t.Errorf("exit %d: %s", code, msg)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"group", "no-such-subcommand"},
		{"policy", "assignment", "bogus"},
		{"group", "list", "--no-such-flag"},
		{"kql", "-o", "yaml", "print 1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := runCLI(t, args...)
			if msg, code := classifyError(err); code != exitUsage || msg == "" {
				t.Errorf("exit %d, want 2: %q", code, msg)
			}
		})
	}
	if out, err := runCLI(t, "--help"); err != nil || !strings.Contains(out, "Exit status:") || !strings.Contains(out, "cannot reach the server") {
		t.Errorf("root help does not document the exit statuses: %v\n%s", err, out)
	}
}

func TestPolicyDenyNamesAssignmentAndDefinition(t *testing.T) {
	dir, s := serveAuthorization(t)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	defID := sub + "/providers/Microsoft.Authorization/policyDefinitions/rg-eu"
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"properties":{"policyType":"Custom","mode":"All","displayName":"Groups in \"Europe\"",
		"parameters":{"allowed":{"type":"Array"}},
		"policyRule":{"if":{"allOf":[{"field":"type","equals":"Microsoft.Resources/subscriptions/resourceGroups"},
		{"field":"location","notIn":"[parameters('allowed')]"}]},"then":{"effect":"deny"}}}}`), &doc); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Cloud.Put(context.Background(), nil, cloud.PutRequest{ID: defID, Type: "Microsoft.Authorization/policyDefinitions", Doc: doc}); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "policy", "assignment", "create", "eu-only", "--policy", "rg-eu", "--parameters", `{"allowed":["westeurope"]}`, "--data", dir); err != nil {
		t.Fatalf("assignment: %v\n%s", err, out)
	}
	_, err := runCLI(t, "group", "create", "rg-us", "-l", "eastus", "--data", dir)
	msg, code := classifyError(err)
	if code != exitNo {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"RequestDisallowedByPolicy", "eu-only", "rg-eu", `Groups in \"Europe\"`} {
		if !strings.Contains(msg, w) {
			t.Errorf("deny message lacks %q:\n%s", w, msg)
		}
	}
}
