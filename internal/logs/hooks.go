package logs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// The ARM resource types the logs engine completes and reacts to.
const (
	TypeWorkspace = "Microsoft.OperationalInsights/workspaces"
	TypeTable     = "Microsoft.OperationalInsights/workspaces/tables"
	TypeDCR       = "Microsoft.Insights/dataCollectionRules"
	TypeDCE       = "Microsoft.Insights/dataCollectionEndpoints"
)

// TypeHook is the pair of hooks the embedded ARM runs for one resource
// type: Put before a PUT or PATCH is stored (it completes the document or
// refuses it with an *arm.Error), Delete after a delete committed. The
// function types match cloud.PutHook and cloud.DeleteHook.
type TypeHook struct {
	Type   string
	Put    func(ctx context.Context, id string, doc, existing map[string]any) error
	Delete func(ctx context.Context, id string, doc map[string]any)
}

// Hooks returns the hooks to install on the embedded ARM:
//
//	for _, h := range svc.Hooks() { c.OnPut(h.Type, h.Put); c.OnDelete(h.Type, h.Delete) }
func (s *Service) Hooks() []TypeHook {
	return []TypeHook{
		{TypeWorkspace, s.putWorkspace, s.deleteWorkspace},
		{TypeTable, s.putTable, s.deleteTable},
		{TypeDCR, s.putDCR, s.deleteDCR},
		{TypeDCE, s.putDCE, func(context.Context, string, map[string]any) {}},
	}
}

func properties(doc map[string]any) map[string]any {
	p, ok := doc["properties"].(map[string]any)
	if !ok {
		p = map[string]any{}
		doc["properties"] = p
	}
	return p
}

func intProp(p map[string]any, k string) int {
	switch v := p[k].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}

// putWorkspace gives a workspace its customerId (kept across updates) and
// registers its shared keys.
func (s *Service) putWorkspace(ctx context.Context, id string, doc, existing map[string]any) error {
	p := properties(doc)
	ret := intProp(p, "retentionInDays")
	if ret == 0 {
		ret = DefaultRetentionDays
	}
	if ret < 4 || ret > 730 {
		return arm.BadRequest("InvalidParameter", "retentionInDays must be between 4 and 730, not %d.", ret)
	}
	ws, err := s.EnsureWorkspace(ctx, id, "", ret)
	if err != nil {
		return err
	}
	p["customerId"] = ws.CustomerID
	p["retentionInDays"] = ret
	p["provisioningState"] = "Succeeded"
	if _, ok := p["sku"]; !ok {
		p["sku"] = map[string]any{"name": "PerGB2018"}
	}
	return nil
}

func (s *Service) deleteWorkspace(ctx context.Context, id string, _ map[string]any) {
	_ = s.DeleteWorkspace(ctx, id)
}

// tableWorkspace returns the workspace of a table resource ID.
func (s *Service) tableWorkspace(ctx context.Context, id string) (Workspace, string, error) {
	i := strings.LastIndex(strings.ToLower(id), "/tables/")
	if i < 0 {
		return Workspace{}, "", arm.BadRequest("InvalidResourceId", "'%s' is not a table ID.", id)
	}
	ws, err := s.WorkspaceByResourceID(ctx, id[:i])
	if errors.Is(err, ErrNoWorkspace) {
		return ws, "", arm.NotFound("ResourceNotFound", "The workspace '%s' was not found.", id[:i])
	}
	return ws, id[i+len("/tables/"):], err
}

// putTable creates or extends a log table from properties.schema.columns
// and sets its retention.
func (s *Service) putTable(ctx context.Context, id string, doc, existing map[string]any) error {
	ws, name, err := s.tableWorkspace(ctx, id)
	if err != nil {
		return err
	}
	if !validName(name, MaxTableNameLen) {
		return arm.BadRequest("InvalidParameter", "The table name '%s' is invalid.", name)
	}
	p := properties(doc)
	schema, _ := p["schema"].(map[string]any)
	if schema == nil {
		schema = map[string]any{}
		p["schema"] = schema
	}
	raw, _ := schema["columns"].([]any)
	var cols []kql.Column
	for _, c := range raw {
		cm, _ := c.(map[string]any)
		cn, _ := cm["name"].(string)
		ct, _ := cm["type"].(string)
		t, err := ParseType(ct)
		if err != nil || !validName(cn, MaxColumnNameLen*4) {
			return arm.BadRequest("InvalidParameter", "Column '%s' has an invalid name or type '%s'.", cn, ct)
		}
		cols = append(cols, kql.Column{Name: cn, Type: t})
	}
	ret := intProp(p, "retentionInDays")
	if _, err := s.Rows.DefineTable(ctx, ws.CustomerID, name, cols, ret); err != nil {
		return arm.BadRequest("InvalidParameter", "%v", err)
	}
	schema["name"] = name
	if ret == 0 {
		p["retentionInDays"] = max(ws.RetentionInDays, DefaultRetentionDays)
		p["retentionInDaysAsDefault"] = true
	}
	p["provisioningState"] = "Succeeded"
	return nil
}

func (s *Service) deleteTable(ctx context.Context, id string, _ map[string]any) {
	if ws, name, err := s.tableWorkspace(ctx, id); err == nil {
		_ = s.Rows.DropTable(ctx, ws.CustomerID, name)
	}
}

// putDCR validates a rule, keeps its immutableId (or assigns one) and
// registers it for the ingestion API.
func (s *Service) putDCR(ctx context.Context, id string, doc, existing map[string]any) error {
	p := properties(doc)
	d, err := parseDCR(id, p, func(wsID string) (string, error) {
		ws, err := s.WorkspaceByResourceID(ctx, wsID)
		return ws.CustomerID, err
	})
	if err != nil {
		return err
	}
	if err := s.trialTransforms(ctx, d); err != nil {
		return err
	}
	imm := ""
	if existing != nil {
		imm, _ = properties(existing)["immutableId"].(string)
	}
	if imm == "" {
		imm = "dcr-" + strings.ReplaceAll(s.opts.NewID(), "-", "")
	}
	d.ImmutableID = imm
	p["immutableId"] = imm
	p["provisioningState"] = "Succeeded"
	if s.opts.IngestionURL != "" {
		p["endpoints"] = map[string]any{"logsIngestion": strings.TrimSuffix(s.opts.IngestionURL, "/") + "/" + imm}
	}
	if err := s.RegisterDCR(ctx, d); err != nil {
		return fmt.Errorf("register data collection rule: %w", err)
	}
	return nil
}

func (s *Service) deleteDCR(ctx context.Context, _ string, doc map[string]any) {
	if imm, _ := properties(doc)["immutableId"].(string); imm != "" {
		_ = s.UnregisterDCR(ctx, imm)
	}
}

// putDCE gives a data collection endpoint its ingestion and configuration
// endpoints, under Steward's ingestion URL.
func (s *Service) putDCE(_ context.Context, id string, doc, _ map[string]any) error {
	p := properties(doc)
	sum := sha256.Sum256([]byte(strings.ToLower(id)))
	base := strings.TrimSuffix(s.opts.IngestionURL, "/") + "/dce-" + hex.EncodeToString(sum[:8])
	if loc, _ := doc["location"].(string); s.opts.DCEEndpoint != nil {
		base = s.opts.DCEEndpoint(id, loc)
	}
	p["logsIngestion"] = map[string]any{"endpoint": base}
	p["configurationAccess"] = map[string]any{"endpoint": base}
	p["provisioningState"] = "Succeeded"
	if _, ok := p["networkAcls"]; !ok {
		p["networkAcls"] = map[string]any{"publicNetworkAccess": "Enabled"}
	}
	return nil
}
