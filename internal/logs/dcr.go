package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// DCR is a data collection rule as the Logs Ingestion API uses it: its
// declared input streams and the flows that route them, transformed, into
// workspace tables.
type DCR struct {
	ResourceID  string              `json:"resourceId"`
	ImmutableID string              `json:"immutableId"`
	Streams     map[string][]Column `json:"streams"`
	Flows       []Flow              `json:"flows"`
}

// Flow routes streams through a transformation into a table of each
// destination workspace.
type Flow struct {
	Streams []string `json:"streams"`
	// Workspaces are the destinations' customerIds.
	Workspaces []string `json:"workspaces"`
	// Transform is the transformKql ("source" when none was given).
	Transform string `json:"transform"`
	// Table is the output table (from outputStream, or the stream).
	Table string `json:"table"`
}

// streamTable is the table an output stream (or an input stream, when a
// flow has no outputStream) writes: Custom-X_CL is X_CL, Microsoft-Syslog is
// Syslog.
func streamTable(stream string) string {
	if t, ok := cutPrefixFold(stream, "Custom-"); ok {
		return t
	}
	if t, ok := cutPrefixFold(stream, "Microsoft-"); ok {
		return t
	}
	return stream
}

func cutPrefixFold(s, p string) (string, bool) {
	if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
		return s[len(p):], true
	}
	return s, false
}

// parseDCR reads the properties of a dataCollectionRules document:
// streamDeclarations, destinations.logAnalytics and dataFlows. resolve
// turns a destination's workspaceResourceId into its customerId.
func parseDCR(id string, props map[string]any, resolve func(string) (string, error)) (*DCR, error) {
	d := &DCR{ResourceID: id, Streams: map[string][]Column{}}
	decls, _ := props["streamDeclarations"].(map[string]any)
	for name, v := range decls {
		if _, ok := cutPrefixFold(name, "Custom-"); !ok {
			return nil, arm.BadRequest("InvalidPayload", "Stream declaration '%s' must start with 'Custom-'.", name)
		}
		decl, _ := v.(map[string]any)
		cols, _ := decl["columns"].([]any)
		if len(cols) == 0 {
			return nil, arm.BadRequest("InvalidPayload", "Stream declaration '%s' has no columns.", name)
		}
		for _, c := range cols {
			cm, _ := c.(map[string]any)
			cn, _ := cm["name"].(string)
			ct, _ := cm["type"].(string)
			t, err := ParseType(ct)
			if err != nil || !validName(cn, MaxColumnNameLen*4) {
				return nil, arm.BadRequest("InvalidPayload", "Column '%s' of stream '%s' has an invalid name or type '%s'.", cn, name, ct)
			}
			d.Streams[name] = append(d.Streams[name], Column{Name: cn, Type: t})
		}
	}
	dests := map[string]string{}
	if ds, ok := props["destinations"].(map[string]any); ok {
		las, _ := ds["logAnalytics"].([]any)
		for _, x := range las {
			la, _ := x.(map[string]any)
			name, _ := la["name"].(string)
			wsID, _ := la["workspaceResourceId"].(string)
			cid, err := resolve(wsID)
			if err != nil {
				return nil, arm.BadRequest("InvalidPayload", "Destination '%s': workspace '%s' was not found.", name, wsID)
			}
			la["workspaceId"] = cid
			dests[strings.ToLower(name)] = cid
		}
	}
	flows, _ := props["dataFlows"].([]any)
	for i, x := range flows {
		f, _ := x.(map[string]any)
		var fl Flow
		for _, s := range asStrings(f["streams"]) {
			if _, ok := d.Streams[s]; !ok && !strings.HasPrefix(strings.ToLower(s), "microsoft-") {
				return nil, arm.BadRequest("InvalidPayload", "Data flow %d names the undeclared stream '%s'.", i, s)
			}
			fl.Streams = append(fl.Streams, s)
		}
		for _, dn := range asStrings(f["destinations"]) {
			cid, ok := dests[strings.ToLower(dn)]
			if !ok {
				return nil, arm.BadRequest("InvalidPayload", "Data flow %d names the unknown destination '%s'.", i, dn)
			}
			fl.Workspaces = append(fl.Workspaces, cid)
		}
		if len(fl.Streams) == 0 || len(fl.Workspaces) == 0 {
			return nil, arm.BadRequest("InvalidPayload", "Data flow %d needs streams and destinations.", i)
		}
		fl.Transform, _ = f["transformKql"].(string)
		if strings.TrimSpace(fl.Transform) == "" {
			fl.Transform = "source"
		}
		if err := checkTransform(fl.Transform); err != nil {
			return nil, arm.BadRequest("InvalidTransformQuery", "Data flow %d: %v", i, err)
		}
		out, _ := f["outputStream"].(string)
		if out == "" {
			if len(fl.Streams) != 1 {
				return nil, arm.BadRequest("InvalidPayload", "Data flow %d needs an outputStream.", i)
			}
			out = fl.Streams[0]
		}
		fl.Table = streamTable(out)
		if !validName(fl.Table, MaxTableNameLen) {
			return nil, arm.BadRequest("InvalidPayload", "Data flow %d: output stream '%s' does not name a table.", i, out)
		}
		d.Flows = append(d.Flows, fl)
	}
	return d, nil
}

func asStrings(x any) []string {
	arr, _ := x.([]any)
	var out []string
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// transformOps are the tabular operators a DCR transformation may use:
// Azure allows only row-by-row processing.
func transformOp(op kql.Op) bool {
	switch o := op.(type) {
	case *kql.Where, *kql.Extend, *kql.ParseOp:
		return true
	case *kql.Project:
		return o.Word != "project-reorder"
	}
	return false
}

// checkTransform parses a transformKql and checks that it reads "source"
// through row-by-row operators only.
func checkTransform(text string) error {
	q, err := kql.Parse(text)
	if err != nil {
		return err
	}
	for _, l := range q.Lets {
		if l.Func != nil {
			return fmt.Errorf("user-defined functions are not supported in transformations")
		}
		if _, ok := l.Value.(*kql.SubQuery); ok {
			return fmt.Errorf("tabular let statements are not supported in transformations")
		}
	}
	if len(q.Batch) > 0 {
		return fmt.Errorf("a transformation is one tabular statement; it cannot return several tables")
	}
	src, ok := q.Body.Source.(*kql.ExprSource)
	var id *kql.Ident
	if ok {
		id, ok = src.X.(*kql.Ident)
	}
	if !ok || id.Name != "source" {
		return fmt.Errorf("a transformation must start with 'source'")
	}
	for _, op := range q.Body.Ops {
		if !transformOp(op) {
			return fmt.Errorf("operator at %s is not supported in transformations (row-by-row operators only: where, extend, project, project-away, project-rename, project-keep, parse)", op.Pos())
		}
	}
	return nil
}

// RegisterDCR records a rule under its immutableId.
func (s *Service) RegisterDCR(ctx context.Context, d *DCR) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		return putJSON(ctx, tx, dcrsTable, strings.ToLower(d.ImmutableID), d)
	})
}

// UnregisterDCR forgets a rule.
func (s *Service) UnregisterDCR(ctx context.Context, immutableID string) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, dcrsTable, strings.ToLower(immutableID), store.Cond{})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// errNoDCR is returned for an unknown immutableId.
var errNoDCR = errors.New("no such data collection rule")

// lookupDCR returns the rule with an immutableId.
func (s *Service) lookupDCR(ctx context.Context, immutableID string) (*DCR, error) {
	var d DCR
	err := s.st.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, dcrsTable, strings.ToLower(immutableID))
		if errors.Is(err, store.ErrNotFound) {
			return errNoDCR
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &d)
	})
	return &d, err
}
