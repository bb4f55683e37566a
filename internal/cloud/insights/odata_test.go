package insights

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/policy"
)

func sampleState() *State {
	return &State{
		Timestamp:    time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		ResourceID:   "/subscriptions/s1/resourceGroups/RG1/providers/Microsoft.Web/sites/sa1",
		ResourceType: "Microsoft.Web/sites", Location: "westeurope",
		AssignmentID: "/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/audit-https",
		DefinitionID: "/providers/Microsoft.Authorization/policyDefinitions/https", Effect: "audit",
		GroupNames: []string{"network", "storage"}, State: policy.StateNonCompliant,
		ManagementGroups: []string{"mg1", "tenant"},
	}
}

func TestFilterSelectsStates(t *testing.T) {
	row := stateRow{s: sampleState()}
	cases := []struct {
		filter string
		want   bool
	}{
		{"IsCompliant eq false", true},
		{"isCompliant EQ true", false},
		{"ComplianceState eq 'noncompliant'", true},
		{"ComplianceState ne 'NonCompliant'", false},
		{"IsCompliant eq false and (PolicyDefinitionAction eq 'audit' or PolicyDefinitionAction eq 'deny')", true},
		{"PolicyDefinitionAction eq 'deny' or PolicyDefinitionAction eq 'modify'", false},
		{"not (ResourceGroup eq 'rg1')", false},
		{"not ResourceGroup eq 'rg2'", true},
		{"ResourceGroup eq 'rg2' or ResourceGroup eq 'rg1' and IsCompliant eq false", true},
		{"(ResourceGroup eq 'rg2' or ResourceGroup eq 'rg1') and IsCompliant eq true", false},
		{"Timestamp ge 2026-11-20T00:00:00Z and Timestamp lt '2026-11-21T00:00:00Z'", true},
		{"Timestamp gt 2026-11-20T10:00:00Z", false},
		{"'storage' in PolicyDefinitionGroupNames", true},
		{"'compute' IN PolicyDefinitionGroupNames", false},
		{"ResourceLocation in ('eastus', 'WestEurope')", true},
		{"startswith(ResourceId, '/subscriptions/s1/resourcegroups/rg1/')", true},
		{"endswith(ResourceType, 'virtualMachines')", false},
		{"contains(ManagementGroupIds, 'mg1')", true},
		{"substringof('sa1', ResourceId)", true},
		{"PolicySetDefinitionId eq ''", true},
		{"PolicySetDefinitionId eq null", true},
		{"PolicyAssignmentOwner eq null", true},
		{"SubscriptionId eq 'S1'", true},
		{"PolicyAssignmentName eq 'it''s'", false},
	}
	for _, c := range cases {
		e, err := ParseFilter(c.filter)
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if got := e.Eval(row); got != c.want {
			t.Errorf("%s = %v, want %v", c.filter, got, c.want)
		}
		again, err := ParseFilter(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("%s: String() %q does not round-trip (%v)", c.filter, e.String(), err)
		}
	}
}

func TestMalformedODataIsASyntaxError(t *testing.T) {
	cases := []struct{ param, expr, msg string }{
		{"$filter", "", "empty"},
		{"$filter", "IsCompliant eq", "expected a property or a value"},
		{"$filter", "IsCompliant equals false", "unknown operator"},
		{"$filter", "NoSuchField eq 1", "unknown property"},
		{"$filter", "(IsCompliant eq false", "expected ')'"},
		{"$filter", "IsCompliant eq false)", "unexpected"},
		{"$filter", "ResourceId eq 'unterminated", "unterminated"},
		{"$filter", "ResourceId eq #", "unexpected character"},
		{"$filter", "frobnicate(ResourceId, 'x')", "unknown function"},
		{"$filter", strings.Repeat("(", 100) + "IsCompliant eq true" + strings.Repeat(")", 100), "nests deeper"},
		{"$filter", strings.Repeat("a", MaxQueryLen+1), "longer than"},
		{"$apply", "groupby(PolicyAssignmentId)", "expected '(' before the grouping"},
		{"$apply", "aggregate(ResourceId as X)", "expected 'with'"},
		{"$apply", "aggregate($count)", "expected 'as'"},
		{"$apply", "groupby((ResourceId))/groupby((PolicyAssignmentId))", "unknown property"},
		{"$apply", "pivot(x)", "unknown transformation"},
		{"$orderby", "ResourceId asc,", "expected a property name"},
		{"$orderby", "Bogus desc", "unknown property"},
		{"$select", "ResourceId ResourceType", "expected ','"},
	}
	for _, c := range cases {
		var err error
		switch c.param {
		case "$filter":
			_, err = ParseFilter(c.expr)
		case "$apply":
			_, err = ParseApply(c.expr)
		case "$orderby":
			_, err = ParseOrderBy(c.expr, stateFields)
		case "$select":
			_, err = ParseSelect(c.expr, stateFields)
		}
		se, ok := err.(*SyntaxError)
		if !ok || se.Param != c.param || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s=%.40q: %v, want a %s syntax error about %q", c.param, c.expr, err, c.param, c.msg)
		}
	}
}

func TestApplyGroupsAndAggregates(t *testing.T) {
	var rows []Row
	for i, rg := range []string{"a", "a", "b", "c"} {
		s := sampleState()
		s.ResourceID = "/subscriptions/s1/resourceGroups/" + rg + "/providers/Microsoft.Web/sites/sa" + string(rune('0'+i))
		if rg == "c" {
			s.State = policy.StateCompliant
		}
		rows = append(rows, stateRow{s: s})
	}
	cases := []struct{ apply, want string }{
		{"aggregate($count as N)", "N=4"},
		{"filter(IsCompliant eq false)/aggregate($count as N)", "N=3"},
		{"groupby((ResourceGroup), aggregate($count as N))", "resourceGroup=a,N=2 resourceGroup=b,N=1 resourceGroup=c,N=1"},
		{"groupby((ResourceGroup, ComplianceState))/groupby((ComplianceState), aggregate($count as Groups))",
			"complianceState=NonCompliant,Groups=2 complianceState=Compliant,Groups=1"},
		{"groupby((PolicyAssignmentId), aggregate(ResourceGroup with countdistinct as G))", "policyAssignmentId=" + sampleState().AssignmentID + ",G=3"},
		{"groupby((IsCompliant))", "isCompliant=false isCompliant=true"},
	}
	for _, c := range cases {
		a, err := ParseApply(c.apply)
		if err != nil {
			t.Errorf("%s: %v", c.apply, err)
			continue
		}
		var got []string
		for _, r := range a.Run(rows) {
			m := r.(*mapRow)
			var parts []string
			for _, n := range m.names {
				parts = append(parts, n+"="+renderValue(m.vals[strings.ToLower(n)]))
			}
			got = append(got, strings.Join(parts, ","))
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s: %s, want %s", c.apply, g, c.want)
		}
		if again, err := ParseApply(a.String()); err != nil || again.String() != a.String() {
			t.Errorf("%s: String() %q does not round-trip (%v)", c.apply, a.String(), err)
		}
	}
}

func TestOrderByDefaultsToDescending(t *testing.T) {
	keys, err := ParseOrderBy("Timestamp, PolicyAssignmentId asc", stateFields)
	if err != nil || len(keys) != 2 || !keys[0].Desc || keys[1].Desc {
		t.Fatalf("%+v %v", keys, err)
	}
	var rows []Row
	for _, h := range []int{3, 1, 2} {
		s := sampleState()
		s.Timestamp = s.Timestamp.Add(time.Duration(h) * time.Hour)
		rows = append(rows, stateRow{s: s})
	}
	sortRows(rows, keys)
	for i, want := range []int{13, 12, 11} {
		if got := rows[i].(stateRow).s.Timestamp.Hour(); got != want {
			t.Errorf("row %d at %d h, want %d", i, got, want)
		}
	}
}

// corpusQueries returns the $filter and $apply values of the policy
// states examples in ../shared, or skips.
func corpusQueries(t testing.TB) (filters, applies []string) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "corpus", "rest-api", "specification", "policyinsights",
		"resource-manager", "Microsoft.PolicyInsights", "stable", "2024-10-01", "examples")
	files, err := filepath.Glob(filepath.Join(dir, "PolicyStates_*.json"))
	if err != nil || len(files) == 0 {
		t.Skip("../shared/corpus (policy insights examples) is absent; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ex struct {
			Parameters map[string]any `json:"parameters"`
		}
		if err := json.Unmarshal(b, &ex); err != nil {
			t.Fatal(err)
		}
		if s, ok := ex.Parameters["$filter"].(string); ok {
			filters = append(filters, s)
		}
		if s, ok := ex.Parameters["$apply"].(string); ok {
			applies = append(applies, s)
		}
	}
	return filters, applies
}

func TestCorpusExamplesParse(t *testing.T) {
	filters, applies := corpusQueries(t)
	if len(filters) == 0 || len(applies) == 0 {
		t.Fatalf("the corpus examples have %d filters and %d applies", len(filters), len(applies))
	}
	for _, f := range filters {
		if _, err := ParseFilter(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, a := range applies {
		if _, err := ParseApply(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	filters, _ := corpusQueries(f)
	for _, s := range append(filters, "IsCompliant eq false", "'g' in PolicyDefinitionGroupNames", "not (a eq 1)") {
		f.Add(s)
	}
	row := stateRow{s: sampleState()}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%q: %T %v", s, err, err)
			}
			return
		}
		e.Eval(row)
		if _, err := ParseFilter(e.String()); err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", s, e.String(), err)
		}
	})
}

func FuzzParseApply(f *testing.F) {
	_, applies := corpusQueries(f)
	for _, s := range append(applies, "aggregate($count as N)", "filter(IsCompliant eq false)/groupby((ResourceId))") {
		f.Add(s)
	}
	rows := []Row{stateRow{s: sampleState()}}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseApply(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%q: %T %v", s, err, err)
			}
			return
		}
		a.Run(rows)
		if _, err := ParseApply(a.String()); err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", s, a.String(), err)
		}
	})
}

// FuzzParseQuery: any combination of query parameters is accepted or a
// 400 ARM error, never a panic or another error.
func FuzzParseQuery(f *testing.F) {
	filters, applies := corpusQueries(f)
	for i, s := range filters {
		a := ""
		if i < len(applies) {
			a = applies[i]
		}
		f.Add(s, a, "ResourceId asc", "ResourceId, ComplianceState", "10", "2019-10-05T18:00:00Z")
	}
	f.Add("", "groupby((ResourceId), aggregate($count as N))", "N desc", "N", "", "")
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, filter, apply, orderby, sel, top, from string) {
		q := url.Values{"$filter": {filter}, "$apply": {apply}, "$orderby": {orderby}, "$select": {sel}, "$top": {top}, "$from": {from}}
		_, err := parseQuery(q, now)
		if err == nil {
			return
		}
		ae, ok := err.(*arm.Error)
		if !ok || ae.Status != 400 {
			t.Fatalf("%v: %T %v", q, err, err)
		}
	})
}
