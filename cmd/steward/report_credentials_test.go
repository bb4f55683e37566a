package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/steward-gov/steward/internal/reports"
	"github.com/steward-gov/steward/internal/server"
)

// TestReportCredentials inventories a vault secret and an application
// password created 200 days ago, flags them, uploads the rows to a
// workspace and runs seed 002's two key-age queries on
// StewardCredentials_CL.
func TestReportCredentials(t *testing.T) {
	dir, s := serveCloud(t, server.CloudService(), server.LogsService(), server.VaultService(server.VaultOptions{}))
	_, must := cliOn(t, dir)
	must("vault", "secret", "set", "--name", "db-password", "--value", "hunter2")
	call := adminCall(t, s)
	graph := s.GraphURL() + "v1.0"
	var app struct{ ID string }
	call("https://graph.microsoft.com/.default", "POST", graph+"/applications", map[string]any{"displayName": "ci-pipeline"}, &app)
	now := time.Now().UTC()
	call("https://graph.microsoft.com/.default", "POST", graph+"/applications/"+app.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"displayName": "deploy", "startDateTime": now.Add(-200 * 24 * time.Hour).Format(time.RFC3339), "endDateTime": now.Add(-10 * 24 * time.Hour).Format(time.RFC3339)}}, nil)

	// An expired, enabled application password is a high finding: exit 1.
	out, err := runCLI(t, "report", "credentials", "-o", "json", "--data", dir)
	if ex, ok := err.(*exitError); !ok || ex.code != exitNo {
		t.Fatalf("report credentials: %v\n%s", err, out)
	}
	var rows []struct {
		Kind, Owner, Name, CredentialId string
		Age                             int
		Flags                           []string
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := map[string]string{}
	for _, r := range rows {
		found[r.Kind+"/"+r.Name] = strings.Join(r.Flags, ",")
		if strings.Contains(r.CredentialId, "-") && len(r.CredentialId) > 8 && !strings.Contains(r.CredentialId, "*") {
			t.Errorf("unmasked identifier %q", r.CredentialId)
		}
	}
	if found["VaultSecret/db-password"] != "NoExpiry" || found["AppPassword/deploy"] != "OlderThan90Days,Expired" {
		t.Errorf("rows: %+v", found)
	}

	// Upload to a workspace and run seed 002's queries on the table.
	must("group", "create", "ops", "-l", "westeurope")
	must("resource", "create", "-g", "ops", "--type", "Microsoft.OperationalInsights/workspaces", "-n", "ops", "-l", "westeurope", "--properties", `{}`)
	ws := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/ops"
	must("report", "credentials", "--workspace", ws, "--fail-on", "none")
	base := strings.TrimSuffix(s.BaseURL, "/")
	query := func(q string) [][]any {
		t.Helper()
		var res struct {
			Tables []struct{ Rows [][]any }
		}
		call("https://api.loganalytics.io/.default", "POST", base+"/v1"+ws+"/query", map[string]any{"query": q}, &res)
		if len(res.Tables) == 0 {
			t.Fatalf("query %q: no table", q)
		}
		return res.Tables[0].Rows
	}
	old := query(`StewardCredentials_CL
| extend key_age = datetime_diff('day',now(),CreateDate_t)
| project Age=key_age, Credential=CredentialId_s, Owner=Owner_s
| where Age > 90
| sort by Age`)
	if len(old) != 1 || fmt.Sprint(old[0][0]) != "200" || old[0][2] != "ci-pipeline" {
		t.Errorf("credentials older than 90 days: %v", old)
	}
	series := query(fmt.Sprintf(`StewardCredentials_CL
| make-series Credentials=count() default=0 on CreateDate_t from datetime(%s) to datetime(%s) step 1d`,
		now.Add(-210*24*time.Hour).Format("2006-01-02"), now.Add(24*time.Hour).Format("2006-01-02")))
	if len(series) != 1 {
		t.Fatalf("make-series: %v", series)
	}
	// The query API returns dynamic columns as JSON text.
	var counts []any
	switch v := series[0][0].(type) {
	case string:
		json.Unmarshal([]byte(v), &counts)
	case []any:
		counts = v
	}
	total := 0
	for _, c := range counts {
		n, _ := c.(float64)
		total += int(n)
	}
	if len(counts) != 211 || total != len(rows) {
		t.Errorf("make-series: %d days, %d credentials; want 211 days and %d", len(counts), total, len(rows))
	}
}

// TestReportCredentialsLastUsed signs an application in with one of its
// two secrets and sees the report's LastUsed set for that secret's keyId
// (through Graph's credential sign-in report) and unset for the other.
func TestReportCredentialsLastUsed(t *testing.T) {
	dir, s := serveCloud(t, server.CloudService())
	call := adminCall(t, s)
	graph := func(method, path string, body, out any) {
		t.Helper()
		call("https://graph.microsoft.com/.default", method, s.GraphURL()+"v1.0"+path, body, out)
	}
	var app struct{ ID, AppID string }
	graph("POST", "/applications", map[string]any{"displayName": "nightly"}, &app)
	var sp struct{ ID string }
	graph("POST", "/servicePrincipals", map[string]any{"appId": app.AppID}, &sp)
	type secret struct{ KeyID, SecretText string }
	var used, idle secret
	graph("POST", "/applications/"+app.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "used"}}, &used)
	graph("POST", "/applications/"+app.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "idle"}}, &idle)
	before := time.Now().UTC().Add(-time.Second)
	cred, err := s.SecretCredential(app.AppID, used.SecretText)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}); err != nil {
		t.Fatal(err)
	}

	out, err := runCLI(t, "report", "credentials", "-o", "json", "--fail-on", "none", "--data", dir)
	if err != nil {
		t.Fatalf("report credentials: %v\n%s", err, out)
	}
	var rows []struct {
		Kind, Owner, Name, CredentialId string
		LastUsed                        *time.Time
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seen := map[string]*time.Time{}
	for _, r := range rows {
		if r.Kind == "AppPassword" && r.Owner == "nightly" {
			seen[r.Name] = r.LastUsed
			if r.CredentialId != reports.Mask(map[string]string{"used": used.KeyID, "idle": idle.KeyID}[r.Name]) {
				t.Errorf("%s: CredentialId %s is not its keyId masked", r.Name, r.CredentialId)
			}
		}
	}
	if len(seen) != 2 || seen["used"] == nil || seen["used"].Before(before) || seen["idle"] != nil {
		t.Fatalf("nightly's secrets: %v\n%s", seen, out)
	}
}

// adminCall returns a function that sends a JSON request to Steward as
// the bootstrap administrator with a token for scope, fails the test on
// any status from 300 up, and decodes the answer into out (when not nil).
func adminCall(t *testing.T, s *server.Steward) func(scope, method, url string, body, out any) {
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}}
	return func(scope, method, url string, body, out any) {
		t.Helper()
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, url, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, url, err)
			}
		}
	}
}
