package collector

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
)

func TestParseApplicationID(t *testing.T) {
	tests := []struct {
		id            string
		sub, rg, name string
		ok            bool
	}{
		{"/subscriptions/S/resourceGroups/rg/providers/Microsoft.Solutions/applications/app", "S", "rg", "app", true},
		// Azure's samples omit the leading '/'; case does not matter
		// (the seed's regex refused both and answered 500).
		{"subscriptions/S/resourcegroups/RG.(x)/providers/microsoft.solutions/APPLICATIONS/a_b", "S", "RG.(x)", "a_b", true},
		{"/subscriptions/S/resourceGroups/rg", "", "", "", false},
		{"/subscriptions/S/resourceGroups/rg/providers/Microsoft.Solutions/applicationDefinitions/d", "", "", "", false},
		{"/subscriptions/S/resourceGroups/rg/providers/Microsoft.Solutions/applications/a/extra/b", "", "", "", false},
		{"", "", "", "", false},
	}
	for _, tc := range tests {
		sub, rg, name, err := ParseApplicationID(tc.id)
		if (err == nil) != tc.ok || sub != tc.sub || rg != tc.rg || name != tc.name {
			t.Errorf("ParseApplicationID(%q) = %q %q %q %v", tc.id, sub, rg, name, err)
		}
	}
}

// Two applications of one name in two resource groups of a subscription
// have keys of their own (the seed keyed by subscription and name).
func TestDeploymentKeysDoNotCollide(t *testing.T) {
	a := Deployment{SubscriptionID: "S", ResourceGroup: "rg1", Name: "app"}
	b := Deployment{SubscriptionID: "S", ResourceGroup: "rg2", Name: "app"}
	c := Deployment{SubscriptionID: "s", ResourceGroup: "RG1", Name: "APP"}
	pa, ra := a.Key()
	pb, rb := b.Key()
	pc, rc := c.Key()
	if pa == pb && ra == rb {
		t.Errorf("same key %s/%s for two applications", pa, ra)
	}
	if pa != pc || ra != rc {
		t.Errorf("one application, two keys: %s/%s and %s/%s", pa, ra, pc, rc)
	}
	for _, r := range []string{ra, rb} {
		if strings.ContainsAny(r, `/\#?`) {
			t.Errorf("RowKey %q has a character the Table service refuses", r)
		}
	}
}

func states(n int) []*armpolicyinsights.PolicyState {
	ts := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var out []*armpolicyinsights.PolicyState
	for i := range n {
		cs := "Compliant"
		if i%7 == 0 {
			cs = "NonCompliant"
		}
		out = append(out, &armpolicyinsights.PolicyState{Timestamp: &ts,
			ResourceID:         to.Ptr(fmt.Sprintf("/subscriptions/s/resourceGroups/mrg/providers/Microsoft.Network/networkSecurityGroups/nsg-%05d-%s", i, strings.Repeat("x", 200))),
			ResourceType:       to.Ptr("Microsoft.Network/networkSecurityGroups"),
			PolicyAssignmentID: to.Ptr("/subscriptions/s/resourceGroups/mrg/providers/Microsoft.Authorization/policyAssignments/audit-env-tag"),
			ComplianceState:    to.Ptr(cs)})
	}
	return out
}

// Batches stay within the Logs Ingestion API's 1 MB, before and after
// compression, and carry every row once.
func TestPackKeepsBatchesUnderTheLimitAndLosesNothing(t *testing.T) {
	d := Deployment{ApplicationID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Solutions/applications/a",
		SubscriptionID: "s", ManagedResourceGroupID: "/subscriptions/s/resourceGroups/mrg", TenantID: "t"}
	rows := rowsOf(d, "run1", time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), states(5000))
	n := 0
	batches, err := pack(rows, MaxBatchBytes, func() string { n++; return fmt.Sprintf("b%d", n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) < 2 {
		t.Fatalf("%d batches for %d rows of about 600 bytes", len(batches), len(rows))
	}
	seen := map[string]bool{}
	for _, b := range batches {
		if len(b.Gzip) > MaxBatchBytes {
			t.Errorf("batch %s: %d bytes compressed", b.ID, len(b.Gzip))
		}
		zr, err := gzip.NewReader(bytes.NewReader(b.Gzip))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > MaxBatchBytes {
			t.Errorf("batch %s: %d bytes uncompressed", b.ID, len(raw))
		}
		var got []Row
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != b.Rows {
			t.Errorf("batch %s: %d rows, says %d", b.ID, len(got), b.Rows)
		}
		for _, r := range got {
			if r.BatchID != b.ID || seen[r.RecordID] {
				t.Errorf("row %s in batch %s (batch id %s, seen %v)", r.RecordID, b.ID, r.BatchID, seen[r.RecordID])
			}
			seen[r.RecordID] = true
			if _, err := time.Parse(time.RFC3339, r.TimeGenerated); err != nil {
				t.Errorf("TimeGenerated %q is not RFC 3339", r.TimeGenerated)
			}
		}
	}
	if len(seen) != len(rows) {
		t.Errorf("%d distinct rows in the batches, want %d", len(seen), len(rows))
	}
}

func TestRowsCarryTheSchema(t *testing.T) {
	d := Deployment{ApplicationID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Solutions/applications/a",
		SubscriptionID: "s", ManagedResourceGroupID: "/subscriptions/s/resourceGroups/mrg", TenantID: "t", PlanName: "gold"}
	old := &armpolicyinsights.PolicyState{ResourceID: to.Ptr("/r"), PolicyAssignmentID: to.Ptr("/a"), IsCompliant: to.Ptr(false)}
	rows := rowsOf(d, "run", time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), append(states(1), old))
	if rows[0].ComplianceState != "NonCompliant" || rows[0].IsCompliant || rows[0].EvaluatedAt != "2026-12-01T10:00:00Z" ||
		rows[0].TimeGenerated != "2026-12-01T12:00:00Z" || rows[0].PlanName != "gold" || rows[0].TenantID != "t" {
		t.Errorf("row: %+v", rows[0])
	}
	// A service that fills only the deprecated isCompliant.
	if rows[1].ComplianceState != "NonCompliant" || rows[1].IsCompliant {
		t.Errorf("row from isCompliant: %+v", rows[1])
	}
	b, _ := json.Marshal(rows[0])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if len(m) != len(Columns) {
		t.Errorf("a row has %d fields, the stream %d columns", len(m), len(Columns))
	}
	for _, c := range Columns {
		if _, ok := m[c.Name]; !ok {
			t.Errorf("column %s missing from a row", c.Name)
		}
	}
}

func TestTenantFromManagementGroups(t *testing.T) {
	s := []*armpolicyinsights.PolicyState{{}, {ManagementGroupIDs: to.Ptr("mymg,fff988bf-86f1-41af-91ab-2d7cd011db47")}}
	if got := tenantFromStates(s); got != "fff988bf-86f1-41af-91ab-2d7cd011db47" {
		t.Errorf("tenant = %q", got)
	}
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	for n := 1; n <= 10; n++ {
		d := time.Second << min(n, 6)
		for range 50 {
			if b := backoff(n); b < d/2 || b >= d {
				t.Fatalf("backoff(%d) = %s, want in [%s, %s)", n, b, d/2, d)
			}
		}
	}
}

func TestSubscriptionOf(t *testing.T) {
	for path, want := range map[string]string{
		"/subscriptions/ABC/resourceGroups/x/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults": "abc",
		"/subscriptions": "", "/providers/Microsoft.Management/managementGroups/m": "",
	} {
		if got := subscriptionOf(path); got != want {
			t.Errorf("subscriptionOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestNotificationValidation(t *testing.T) {
	app := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Solutions/applications/a"
	for _, tc := range []struct {
		ev    Notification
		valid bool
	}{
		{Notification{EventType: "put", ProvisioningState: "succeeded", ApplicationID: app}, true},
		{Notification{EventType: "DELETE", ProvisioningState: "Deleting", ApplicationID: app}, true},
		{Notification{EventType: "DELETE", ProvisioningState: "Failed", ApplicationID: app}, true},
		{Notification{EventType: "PATCH", ProvisioningState: "Failed", ApplicationID: app}, false},
		{Notification{EventType: "PUT", ProvisioningState: "Deleted", ApplicationID: app}, false},
		{Notification{EventType: "PUT", ProvisioningState: "Succeeded"}, false},
	} {
		ev := tc.ev
		if err := ev.validate(); (err == nil) != tc.valid {
			t.Errorf("%+v: %v", tc.ev, err)
		}
	}
}

func TestAlertGranularities(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "PT5M", 7 * time.Minute: "PT10M", time.Hour: "PT1H", 6 * time.Hour: "PT6H",
		12 * time.Hour: "P1D", 24 * time.Hour: "P1D", 30 * time.Hour: "P2D", 100 * time.Hour: "P2D",
	} {
		if got := isoDuration(d); got != want {
			t.Errorf("isoDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

// POST actions such as queryResults take from the writes bucket, as ARM
// counts them.
func TestThrottleBucketsPerKind(t *testing.T) {
	th := &Throttle{}
	r, w := th.bucket("p|s|r", false), th.bucket("p|s|w", true)
	if r.Burst() != 250 || r.Limit() != 25 || w.Burst() != 200 || w.Limit() != 10 {
		t.Errorf("reads %d/%v, writes %d/%v", r.Burst(), r.Limit(), w.Burst(), w.Limit())
	}
}
