package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/server"
)

// serveLogs serves a Steward with the management API and logs.
func serveLogs(t *testing.T) string {
	t.Helper()
	dir, _ := serveCloud(t, server.CloudService(), server.LogsService())
	return dir
}

func TestLogsCommandsCreateIngestAndQuery(t *testing.T) {
	dir := serveLogs(t)
	run, must := cliOn(t, dir)
	must("group", "create", "mon", "-l", "westeurope")
	out := must("logs", "workspace", "create", "gov", "-g", "mon", "-l", "westeurope", "--retention", "60", "-o", "json")
	var ws struct {
		CustomerID      string `json:"customerId"`
		RetentionInDays int    `json:"retentionInDays"`
	}
	if err := json.Unmarshal([]byte(out), &ws); err != nil || len(ws.CustomerID) != 36 || ws.RetentionInDays != 60 {
		t.Fatalf("workspace create: %v\n%s", err, out)
	}
	if out := must("logs", "workspace", "list"); !strings.Contains(out, ws.CustomerID) || !strings.Contains(out, "gov") {
		t.Errorf("workspace list:\n%s", out)
	}
	if out := must("logs", "workspace", "show", "gov", "-g", "mon"); !strings.Contains(out, ws.CustomerID) {
		t.Errorf("workspace show:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "keys.json")
	records := `[{"user":"alice","AccessKeyId":"AKIA...0001","CreateDate":"2019-01-15T10:00:00"},` +
		`{"user":"bob","AccessKeyId":"AKIA...0002","CreateDate":"` + time.Now().UTC().Add(-48*time.Hour).Format("2006-01-02T15:04:05") + `"}]`
	if err := os.WriteFile(file, []byte(records), 0o600); err != nil {
		t.Fatal(err)
	}
	must("logs", "ingest", file, "--workspace", "gov", "-g", "mon", "--log-type", "AWS_Access_Key_Report")
	q := "AWS_Access_Key_Report_CL | extend key_age = datetime_diff('day',now(),CreateDate_t) | project Age=key_age,AccessKey=AccessKeyId_s, User=user_s | where Age > 90 | sort by Age"
	out = must("logs", "query", q, "--workspace", "gov", "-g", "mon")
	if !strings.Contains(out, "alice") || strings.Contains(out, "bob") || !strings.Contains(out, "AGE") {
		t.Errorf("query table:\n%s", out)
	}
	out = must("logs", "query", "AWS_Access_Key_Report_CL | count", "--workspace", ws.CustomerID, "--timespan", "PT1H", "-o", "json")
	if !strings.Contains(out, `"PrimaryResult"`) || !strings.Contains(out, "2") {
		t.Errorf("query json:\n%s", out)
	}
	out = must("logs", "query", "AWS_Access_Key_Report_CL | fork (count) Users = (summarize by user_s | sort by user_s asc)", "--workspace", ws.CustomerID)
	if i, j := strings.Index(out, "Table: PrimaryResult"), strings.Index(out, "Table: Users"); i < 0 || j < i || !strings.Contains(out[j:], "bob") {
		t.Errorf("query with several tables:\n%s", out)
	}
	out, err := run("logs", "query", "AWS_Access_Key_Report_CL | where (", "--workspace", ws.CustomerID)
	var ee *exitError
	if !asExit(err, &ee) || ee.code != exitUsage || !strings.Contains(ee.msg, "BadArgumentError") || !strings.Contains(ee.msg, "line 1") {
		t.Errorf("syntax error: %v %+v\n%s", err, ee, out)
	}
}

func asExit(err error, ee **exitError) bool {
	e, ok := err.(*exitError)
	*ee = e
	return ok
}
