package collector

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
)

// Row is one record of PolicyComplianceStates_CL: one (deployment,
// assignment, resource) of one collection run. The columns are documented
// in docs/collector.md.
type Row struct {
	TimeGenerated               string `json:"TimeGenerated"`
	RunID                       string `json:"RunId"`
	BatchID                     string `json:"BatchId"`
	RecordID                    string `json:"RecordId"`
	TenantID                    string `json:"TenantId"`
	SubscriptionID              string `json:"SubscriptionId"`
	ApplicationID               string `json:"ApplicationId"`
	ManagedResourceGroup        string `json:"ManagedResourceGroup"`
	PlanName                    string `json:"PlanName"`
	ResourceID                  string `json:"ResourceId"`
	ResourceType                string `json:"ResourceType"`
	PolicyAssignmentID          string `json:"PolicyAssignmentId"`
	PolicyAssignmentName        string `json:"PolicyAssignmentName"`
	PolicyDefinitionID          string `json:"PolicyDefinitionId"`
	PolicyDefinitionReferenceID string `json:"PolicyDefinitionReferenceId"`
	PolicySetDefinitionID       string `json:"PolicySetDefinitionId"`
	ComplianceState             string `json:"ComplianceState"`
	IsCompliant                 bool   `json:"IsCompliant"`
	EvaluatedAt                 string `json:"EvaluatedAt"`
}

// Columns are the stream's columns with their Log Analytics types, in
// order: the DCR stream declaration and the table schema.
var Columns = []struct{ Name, Type string }{
	{"TimeGenerated", "datetime"}, {"RunId", "string"}, {"BatchId", "string"}, {"RecordId", "string"},
	{"TenantId", "string"}, {"SubscriptionId", "string"}, {"ApplicationId", "string"},
	{"ManagedResourceGroup", "string"}, {"PlanName", "string"}, {"ResourceId", "string"},
	{"ResourceType", "string"}, {"PolicyAssignmentId", "string"}, {"PolicyAssignmentName", "string"},
	{"PolicyDefinitionId", "string"}, {"PolicyDefinitionReferenceId", "string"},
	{"PolicySetDefinitionId", "string"}, {"ComplianceState", "string"}, {"IsCompliant", "boolean"},
	{"EvaluatedAt", "datetime"},
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// rowsOf turns a deployment's policy states into rows of run runID taken
// at t.
func rowsOf(d Deployment, runID string, t time.Time, states []*armpolicyinsights.PolicyState) []Row {
	out := make([]Row, 0, len(states))
	for _, s := range states {
		if s == nil {
			continue
		}
		r := Row{TimeGenerated: t.UTC().Format(time.RFC3339Nano), RunID: runID, TenantID: d.TenantID,
			SubscriptionID: d.SubscriptionID, ApplicationID: d.ApplicationID, ManagedResourceGroup: d.ManagedResourceGroupID,
			PlanName: d.PlanName, ResourceID: str(s.ResourceID), ResourceType: str(s.ResourceType),
			PolicyAssignmentID: str(s.PolicyAssignmentID), PolicyAssignmentName: str(s.PolicyAssignmentName),
			PolicyDefinitionID: str(s.PolicyDefinitionID), PolicyDefinitionReferenceID: str(s.PolicyDefinitionReferenceID),
			PolicySetDefinitionID: str(s.PolicySetDefinitionID), ComplianceState: str(s.ComplianceState)}
		if r.ComplianceState == "" && s.IsCompliant != nil {
			// Older services fill only the deprecated isCompliant.
			r.ComplianceState = map[bool]string{true: "Compliant", false: "NonCompliant"}[*s.IsCompliant]
		}
		r.IsCompliant = strings.EqualFold(r.ComplianceState, "Compliant")
		if s.Timestamp != nil {
			r.EvaluatedAt = s.Timestamp.UTC().Format(time.RFC3339Nano)
		}
		h := sha256.Sum256([]byte(strings.ToLower(runID + "\x00" + d.ApplicationID + "\x00" + r.PolicyAssignmentID + "\x00" +
			r.PolicyDefinitionReferenceID + "\x00" + r.ResourceID)))
		r.RecordID = hex.EncodeToString(h[:16])
		out = append(out, r)
	}
	return out
}

// Batch is a gzip-compressed JSON array of rows, at most MaxBatchBytes
// compressed.
type Batch struct {
	ID   string `json:"id"`
	Rows int    `json:"rows"`
	Gzip []byte `json:"gzip"`
}

// MaxBatchBytes is the Logs Ingestion API's limit on one call's body (1
// MB, compressed or not).
const MaxBatchBytes = 1 << 20

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// pack splits rows into batches whose gzip body stays at most limit bytes
// and whose JSON before compression also stays under limit (the API's
// limit is on either form). newID names each batch, and every row carries
// its batch's ID.
func pack(rows []Row, limit int, newID func() string) ([]Batch, error) {
	var out []Batch
	for start := 0; start < len(rows); {
		id := newID()
		// Grow a batch row by row on the uncompressed size, which bounds
		// the compressed one.
		var buf bytes.Buffer
		buf.WriteByte('[')
		end := start
		for end < len(rows) {
			rows[end].BatchID = id
			b, err := json.Marshal(rows[end])
			if err != nil {
				return nil, err
			}
			if buf.Len()+len(b)+2 > limit {
				break
			}
			if end > start {
				buf.WriteByte(',')
			}
			buf.Write(b)
			end++
		}
		if end == start {
			return nil, fmt.Errorf("a single row is larger than %d bytes", limit)
		}
		buf.WriteByte(']')
		out = append(out, Batch{ID: id, Rows: end - start, Gzip: gz(buf.Bytes())})
		start = end
	}
	return out, nil
}

// tenantFromStates returns the tenant of a deployment the publisher cannot
// read the subscription of: the last of a state's managementGroupIds is
// the tenant root group, whose name is the tenant ID.
func tenantFromStates(states []*armpolicyinsights.PolicyState) string {
	for _, s := range states {
		if s == nil || s.ManagementGroupIDs == nil || *s.ManagementGroupIDs == "" {
			continue
		}
		ids := strings.Split(*s.ManagementGroupIDs, ",")
		return strings.TrimSpace(ids[len(ids)-1])
	}
	return ""
}
