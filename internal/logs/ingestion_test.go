package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	testWorkspaceID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws"
	testDCRID       = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/policy-states"
)

// armDoc decodes a JSON resource document as the embedded ARM hands it to
// hooks.
func armDoc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// setupPolicyStates creates, through the ARM hooks, seed 000's table and a
// rule whose transformation renames and stamps the rows.
func setupPolicyStates(t *testing.T, s *Service) string {
	t.Helper()
	ctx := context.Background()
	hooks := map[string]TypeHook{}
	for _, h := range s.Hooks() {
		hooks[h.Type] = h
	}
	table := armDoc(t, `{"properties":{"schema":{"name":"PolicyComplianceStates_CL","columns":[
		{"name":"TimeGenerated","type":"datetime"},{"name":"Policy_assignment_id","type":"string"},
		{"name":"Policy_definition_id","type":"string"},{"name":"Resource_id","type":"string"},
		{"name":"Is_compliant","type":"boolean"},{"name":"Retries","type":"int"}]},"retentionInDays":90}}`)
	if err := hooks[TypeTable].Put(ctx, testWorkspaceID+"/tables/PolicyComplianceStates_CL", table, nil); err != nil {
		t.Fatal(err)
	}
	dcr := armDoc(t, `{"location":"eastus","properties":{
		"streamDeclarations":{"Custom-PolicyStates":{"columns":[
			{"name":"Timestamp","type":"datetime"},{"name":"PolicyAssignmentId","type":"string"},
			{"name":"PolicyDefinitionId","type":"string"},{"name":"ResourceId","type":"string"},
			{"name":"IsCompliant","type":"boolean"},{"name":"Retries","type":"int"},{"name":"Debug","type":"string"}]}},
		"destinations":{"logAnalytics":[{"name":"la","workspaceResourceId":"`+testWorkspaceID+`"}]},
		"dataFlows":[{"streams":["Custom-PolicyStates"],"destinations":["la"],
			"transformKql":"source | where PolicyAssignmentId != '' | extend TimeGenerated = Timestamp | project TimeGenerated, Policy_assignment_id = PolicyAssignmentId, Policy_definition_id = PolicyDefinitionId, Resource_id = ResourceId, Is_compliant = IsCompliant, Retries",
			"outputStream":"Custom-PolicyComplianceStates_CL"}]}}`)
	if err := hooks[TypeDCR].Put(ctx, testDCRID, dcr, nil); err != nil {
		t.Fatal(err)
	}
	imm, _ := dcr["properties"].(map[string]any)["immutableId"].(string)
	if !strings.HasPrefix(imm, "dcr-") || len(imm) != 36 {
		t.Fatalf("immutableId %q", imm)
	}
	return imm
}

func newIngestService(t *testing.T, be int) *Service {
	t.Helper()
	s := newTestService(t, backends[be].open(t))
	s.opts.IngestionURL = "https://steward.test/ingest"
	if _, err := s.EnsureWorkspace(context.Background(), testWorkspaceID, "", 0); err != nil {
		t.Fatal(err)
	}
	return s
}

func ingestRequest(imm, stream string, body []byte, gz bool) *http.Request {
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	r := httptest.NewRequest("POST", "/ingest/dataCollectionRules/"+imm+"/streams/"+stream+"?api-version=2023-01-01", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if gz {
		r.Header.Set("Content-Encoding", "gzip")
	}
	return r
}

// policyState is one record the collector of seed 000 uploads.
type policyState struct {
	Timestamp          string `json:"Timestamp"`
	PolicyAssignmentId string `json:"PolicyAssignmentId"`
	PolicyDefinitionId string `json:"PolicyDefinitionId"`
	ResourceId         string `json:"ResourceId"`
	IsCompliant        bool   `json:"IsCompliant"`
	Retries            int    `json:"Retries"`
	Unknown            string `json:"NotDeclared"`
}

func TestSeed000AlertQueryOverIngestedStates(t *testing.T) {
	for bi, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s := newIngestService(t, bi)
			imm := setupPolicyStates(t, s)
			// Five assignments, each with several states over time; the
			// alert fires for the ones whose latest state is non-compliant.
			var states []policyState
			latest := map[string]policyState{}
			for i := range 20 {
				st := policyState{
					Timestamp:          fixedNow.Add(-time.Duration(20-i) * time.Hour).Format(time.RFC3339),
					PolicyAssignmentId: fmt.Sprintf("/providers/Microsoft.Authorization/policyAssignments/a%d", i%5),
					PolicyDefinitionId: "def", ResourceId: fmt.Sprintf("vm%d", i),
					IsCompliant: (i*7)%3 != 0, Retries: i, Unknown: "dropped",
				}
				states = append(states, st)
				latest[st.PolicyAssignmentId] = st
			}
			// Two uploads, one gzip-compressed, as the SDKs send them.
			for k, part := range [][]policyState{states[:8], states[8:]} {
				body, _ := json.Marshal(part)
				w := httptest.NewRecorder()
				s.IngestionHandler().ServeHTTP(w, ingestRequest(imm, "Custom-PolicyStates", body, k == 1))
				if w.Code != http.StatusNoContent {
					t.Fatalf("upload %d: %d %s", k, w.Code, w.Body)
				}
			}
			var want []string
			for id, st := range latest {
				if !st.IsCompliant {
					want = append(want, id+"|"+st.ResourceId)
				}
			}
			sort.Strings(want)
			if len(want) == 0 {
				t.Fatal("test data has no non-compliant assignment")
			}
			code, resp := apiQuery(t, s, testCustomerID,
				"PolicyComplianceStates_CL | summarize arg_max(TimeGenerated,*) by Policy_assignment_id | where Is_compliant==false", "", "")
			if code != 200 {
				t.Fatalf("query: %d %v", code, resp)
			}
			tab := resp["tables"].([]any)[0].(map[string]any)
			var names []string
			for _, c := range tab["columns"].([]any) {
				names = append(names, c.(map[string]any)["name"].(string))
			}
			wantCols := "Policy_assignment_id TimeGenerated Policy_definition_id Resource_id Is_compliant Retries"
			if strings.Join(names, " ") != wantCols {
				t.Errorf("columns %v, want %s", names, wantCols)
			}
			var got []string
			for _, r := range tableRows(t, resp) {
				got = append(got, fmt.Sprintf("%v|%v", r[0], r[3]))
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("non-compliant assignments:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestIngestionErrors(t *testing.T) {
	s := newIngestService(t, 0)
	imm := setupPolicyStates(t, s)
	big := []byte("[" + strings.Repeat(`{"PolicyAssignmentId":"x"},`, 50000) + `{}]`)
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"unknown rule", ingestRequest("dcr-00000000000000000000000000000000", "Custom-PolicyStates", []byte(`[]`), false), 404, "NotFound"},
		{"undeclared stream", ingestRequest(imm, "Custom-Other", []byte(`[]`), false), 400, "InvalidStream"},
		{"not json", ingestRequest(imm, "Custom-PolicyStates", []byte(`{{`), false), 400, "InvalidContent"},
		{"too large", ingestRequest(imm, "Custom-PolicyStates", big, false), 413, "ContentLengthLimitExceeded"},
		{"too large once decompressed", ingestRequest(imm, "Custom-PolicyStates", big, true), 413, "ContentLengthLimitExceeded"},
		{"bad gzip", func() *http.Request {
			r := ingestRequest(imm, "Custom-PolicyStates", []byte(`[]`), false)
			r.Header.Set("Content-Encoding", "gzip")
			return r
		}(), 400, "InvalidContentEncoding"},
		{"wrong api-version", func() *http.Request {
			r := ingestRequest(imm, "Custom-PolicyStates", []byte(`[]`), false)
			r.URL.RawQuery = "api-version=2022-01-01"
			return r
		}(), 400, "InvalidApiVersion"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.IngestionHandler().ServeHTTP(w, c.req)
			var e ingestError
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != c.status || e.Body.Code != c.code {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, c.status, c.code)
			}
		})
	}
}

func TestDCRValidation(t *testing.T) {
	s := newIngestService(t, 0)
	put := s.Hooks()[2].Put
	base := func(flow string) string {
		return `{"properties":{"streamDeclarations":{"Custom-S":{"columns":[{"name":"a","type":"string"}]}},
		"destinations":{"logAnalytics":[{"name":"la","workspaceResourceId":"` + testWorkspaceID + `"}]},
		"dataFlows":[` + flow + `]}}`
	}
	cases := []struct {
		name, doc string
		ok        bool
	}{
		{"row-by-row transform", base(`{"streams":["Custom-S"],"destinations":["la"],"transformKql":"source | where a != '' | extend b = strlen(a) | project-away a","outputStream":"Custom-T_CL"}`), true},
		{"summarize is not row by row", base(`{"streams":["Custom-S"],"destinations":["la"],"transformKql":"source | summarize count()","outputStream":"Custom-T_CL"}`), false},
		{"several statements", base(`{"streams":["Custom-S"],"destinations":["la"],"transformKql":"source | where a != ''; source","outputStream":"Custom-T_CL"}`), false},
		{"fork is not row by row", base(`{"streams":["Custom-S"],"destinations":["la"],"transformKql":"source | fork (where true) (where false)","outputStream":"Custom-T_CL"}`), false},
		{"other source", base(`{"streams":["Custom-S"],"destinations":["la"],"transformKql":"T | where true","outputStream":"Custom-T_CL"}`), false},
		{"syntax error", base(`{"streams":["Custom-S"],"destinations":["la"],"transformKql":"source | where (","outputStream":"Custom-T_CL"}`), false},
		{"unknown destination", base(`{"streams":["Custom-S"],"destinations":["nope"]}`), false},
		{"undeclared stream", base(`{"streams":["Custom-Q"],"destinations":["la"]}`), false},
		{"stream without Custom- prefix", `{"properties":{"streamDeclarations":{"S":{"columns":[{"name":"a","type":"string"}]}}}}`, false},
		{"bad column type", `{"properties":{"streamDeclarations":{"Custom-S":{"columns":[{"name":"a","type":"text"}]}}}}`, false},
		{"unknown workspace", `{"properties":{"destinations":{"logAnalytics":[{"name":"la","workspaceResourceId":"/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/z"}]}}}`, false},
	}
	for _, c := range cases {
		err := put(context.Background(), testDCRID, armDoc(t, c.doc), nil)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
