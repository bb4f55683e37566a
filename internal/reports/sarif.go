package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strings"
)

// SARIF writes findings as a SARIF 2.1.0 log with one run of tool
// "steward": one rule per finding kind, one result per finding, located by
// the resource ID as a logical location (findings are about resources,
// not files), with a partial fingerprint that is stable across runs so a
// code-scanning service matches a finding from one run to the next.
func SARIF(w io.Writer, version string, findings []Finding) error {
	type text struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string         `json:"id"`
		ShortDescription text           `json:"shortDescription"`
		Properties       map[string]any `json:"properties,omitempty"`
	}
	type logical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	type location struct {
		LogicalLocations []logical `json:"logicalLocations"`
	}
	type result struct {
		RuleID              string            `json:"ruleId"`
		Level               string            `json:"level"`
		Message             text              `json:"message"`
		Locations           []location        `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties,omitempty"`
	}
	seen := map[string]bool{}
	rules := []rule{}
	results := make([]result, 0, len(findings))
	for _, f := range findings {
		id := f.Report + "/" + f.Kind
		if !seen[id] {
			seen[id] = true
			rules = append(rules, rule{ID: id, ShortDescription: text{f.Kind}, Properties: map[string]any{"report": f.Report}})
		}
		results = append(results, result{
			RuleID: id, Level: sarifLevel(f.Severity), Message: text{f.Message},
			Locations:           []location{{LogicalLocations: []logical{{FullyQualifiedName: f.ResourceID, Kind: "resource"}}}},
			PartialFingerprints: map[string]string{"stewardFinding/v1": f.Fingerprint()},
			Properties:          map[string]any{"severity": f.Severity, "details": f.Details},
		})
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name": "steward", "version": version,
				"informationUri": "https://github.com/steward-gov/steward/blob/main/docs/reports.md",
				"rules":          rules,
			}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// sarifLevel maps a severity to SARIF's result level.
func sarifLevel(severity string) string {
	switch severity {
	case High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// Fingerprint identifies a finding across runs: its report, kind and
// resource (lower case), and the detail that tells apart findings of one
// kind on one resource (a rule name, a port list is not part of it: a
// finding whose ports change is the same finding).
func (f Finding) Fingerprint() string {
	key := strings.ToLower(f.Report + "|" + f.Kind + "|" + f.ResourceID)
	if r, ok := f.Details["rule"].(string); ok {
		key += "|" + strings.ToLower(r)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
