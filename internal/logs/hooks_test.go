package logs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/arm"
)

func hookFor(s *Service, typ string) TypeHook {
	for _, h := range s.Hooks() {
		if h.Type == typ {
			return h
		}
	}
	panic("no hook for " + typ)
}

func TestWorkspaceHookKeepsCustomerIDAcrossUpdates(t *testing.T) {
	s := New(backends[0].open(t), Options{Now: clock})
	ctx := context.Background()
	put := hookFor(s, TypeWorkspace).Put
	const id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w1"
	first := armDoc(t, `{"location":"eastus"}`)
	if err := put(ctx, id, first, nil); err != nil {
		t.Fatal(err)
	}
	p := first["properties"].(map[string]any)
	cid, _ := p["customerId"].(string)
	if len(cid) != 36 || p["retentionInDays"] != DefaultRetentionDays || p["provisioningState"] != "Succeeded" {
		t.Fatalf("properties after create: %v", p)
	}
	// An update, even one that tries to set customerId, keeps it.
	second := armDoc(t, `{"location":"eastus","properties":{"customerId":"00000000-0000-0000-0000-000000000001","retentionInDays":120}}`)
	if err := put(ctx, strings.ToUpper(id), second, first); err != nil {
		t.Fatal(err)
	}
	if got := second["properties"].(map[string]any)["customerId"]; got != cid {
		t.Errorf("customerId after update = %v, want %s", got, cid)
	}
	ws, err := s.Workspace(ctx, cid)
	if err != nil || ws.RetentionInDays != 120 || ws.PrimaryKey == ws.SecondaryKey {
		t.Errorf("workspace %+v, %v", ws, err)
	}
	bad := armDoc(t, `{"properties":{"retentionInDays":3}}`)
	var ae *arm.Error
	if err := put(ctx, id, bad, nil); !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("retention 3: %v", err)
	}
	hookFor(s, TypeWorkspace).Delete(ctx, id, first)
	if _, err := s.Workspace(ctx, cid); !errors.Is(err, ErrNoWorkspace) {
		t.Errorf("after delete: %v", err)
	}
}

func TestTableAndEndpointHooks(t *testing.T) {
	s := newIngestService(t, 0)
	ctx := context.Background()
	table := hookFor(s, TypeTable)
	doc := armDoc(t, `{"properties":{"schema":{"columns":[{"name":"A","type":"string"},{"name":"N","type":"long"}]}}}`)
	if err := table.Put(ctx, testWorkspaceID+"/tables/T_CL", doc, nil); err != nil {
		t.Fatal(err)
	}
	tab, err := s.Rows.Table(ctx, testCustomerID, "T_CL")
	if err != nil || len(tab.Columns) != 3 || tab.Columns[0].Name != TimeGenerated {
		t.Fatalf("table %+v, %v", tab, err)
	}
	retype := armDoc(t, `{"properties":{"schema":{"columns":[{"name":"N","type":"string"}]}}}`)
	if err := table.Put(ctx, testWorkspaceID+"/tables/T_CL", retype, doc); err == nil {
		t.Error("changing a column's type was accepted")
	}
	if err := table.Put(ctx, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/none/tables/T_CL", doc, nil); err == nil {
		t.Error("a table of an unknown workspace was accepted")
	}
	table.Delete(ctx, testWorkspaceID+"/tables/T_CL", doc)
	if _, err := s.Rows.Table(ctx, testCustomerID, "T_CL"); !errors.Is(err, ErrNoTable) {
		t.Errorf("after delete: %v", err)
	}
	dce := armDoc(t, `{"location":"eastus"}`)
	if err := hookFor(s, TypeDCE).Put(ctx, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionEndpoints/e", dce, nil); err != nil {
		t.Fatal(err)
	}
	ep, _ := dce["properties"].(map[string]any)["logsIngestion"].(map[string]any)["endpoint"].(string)
	if !strings.HasPrefix(ep, "https://steward.test/ingest/dce-") {
		t.Errorf("DCE endpoint %q", ep)
	}
	// A rule keeps its immutableId when updated.
	imm := setupPolicyStates(t, s)
	dcr := armDoc(t, `{"properties":{"immutableId":"dcr-other","destinations":{"logAnalytics":[{"name":"la","workspaceResourceId":"`+testWorkspaceID+`"}]}}}`)
	existing := armDoc(t, `{"properties":{"immutableId":"`+imm+`"}}`)
	if err := hookFor(s, TypeDCR).Put(ctx, testDCRID, dcr, existing); err != nil {
		t.Fatal(err)
	}
	if got := dcr["properties"].(map[string]any)["immutableId"]; got != imm {
		t.Errorf("immutableId after update = %v, want %s", got, imm)
	}
	hookFor(s, TypeDCR).Delete(ctx, testDCRID, dcr)
	if _, err := s.lookupDCR(ctx, imm); !errors.Is(err, errNoDCR) {
		t.Errorf("rule after delete: %v", err)
	}
}
