package consumption

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/arm"
)

const rgBudget = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Consumption/budgets/b"

func budgetDoc(t *testing.T, props string) map[string]any {
	t.Helper()
	// The cloud decodes documents with UseNumber.
	var p map[string]any
	dec := json.NewDecoder(strings.NewReader(props))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"properties": p}
}

const valid = `{"category":"Cost","amount":100,"timeGrain":"Monthly","timePeriod":{"startDate":"2026-12-01"},
  "notifications":{"a80":{"enabled":true,"operator":"GreaterThan","threshold":80,"contactEmails":["ops@example.com"]}}}`

func TestPutBudgetCompletesAValidBudget(t *testing.T) {
	doc := budgetDoc(t, strings.Replace(valid, `"Monthly"`, `"monthly"`, 1))
	if err := PutBudget(context.Background(), rgBudget, doc, nil); err != nil {
		t.Fatal(err)
	}
	p := doc["properties"].(map[string]any)
	tp := p["timePeriod"].(map[string]any)
	n := p["notifications"].(map[string]any)["a80"].(map[string]any)
	if p["timeGrain"] != "Monthly" || tp["startDate"] != "2026-12-01T00:00:00Z" || tp["endDate"] != "2036-12-01T00:00:00Z" ||
		n["thresholdType"] != "Actual" || p["currentSpend"].(map[string]any)["amount"] != 0 {
		t.Fatalf("completed budget: %v", p)
	}
}

func TestPutBudgetRefusesWhatAzureRefuses(t *testing.T) {
	cases := []struct {
		name, id, from, to, says string
	}{
		{"usage category", rgBudget, `"category":"Cost"`, `"category":"Usage"`, "category"},
		{"no amount", rgBudget, `"amount":100,`, ``, "amount"},
		{"negative amount", rgBudget, `"amount":100`, `"amount":-1`, "amount"},
		{"time grain", rgBudget, `"Monthly"`, `"Weekly"`, "timeGrain 'Weekly'"},
		{"start mid-month", rgBudget, `2026-12-01`, `2026-12-15`, "first day of a month"},
		{"start before 2017-06", rgBudget, `2026-12-01`, `2017-05-01`, "2017-06-01"},
		{"end before start", rgBudget, `"startDate":"2026-12-01"`, `"startDate":"2026-12-01","endDate":"2026-01-01"`, "endDate must be after"},
		{"bad date", rgBudget, `2026-12-01`, `tomorrow`, "not a date"},
		{"operator", rgBudget, `"GreaterThan"`, `"LessThan"`, "operator 'LessThan'"},
		{"threshold", rgBudget, `"threshold":80`, `"threshold":1001`, "threshold"},
		{"no contacts", rgBudget, `"contactEmails":["ops@example.com"]`, `"contactEmails":[]`, "at least one contact"},
		{"bad email", rgBudget, `ops@example.com`, `not an address`, "not an email address"},
		{"no enabled", rgBudget, `"enabled":true,`, ``, "enabled"},
		{"tenant scope", "/providers/Microsoft.Consumption/budgets/b", "", "", "subscription or resource group"},
		{"resource scope", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/providers/Microsoft.Consumption/budgets/b", "", "", "subscription or resource group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := budgetDoc(t, strings.Replace(valid, c.from, c.to, 1))
			err := PutBudget(context.Background(), c.id, doc, nil)
			e := arm.AsError(err)
			if err == nil || e.Status != 400 || e.Code != "InvalidBudget" || !strings.Contains(e.Message, c.says) {
				t.Fatalf("%v, want 400 InvalidBudget saying %q", err, c.says)
			}
		})
	}
	six := budgetDoc(t, valid)
	ns := six["properties"].(map[string]any)["notifications"].(map[string]any)
	for _, k := range []string{"b", "c", "d", "e", "f"} {
		ns[k] = ns["a80"]
	}
	if err := PutBudget(context.Background(), rgBudget, six, nil); err == nil || !strings.Contains(err.Error(), "at most 5") {
		t.Fatalf("six notifications: %v", err)
	}
}
