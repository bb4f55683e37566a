package reports

import (
	"fmt"
	"sort"
	"strings"
)

// MCSBInitiativeID is Azure's built-in Microsoft cloud security benchmark
// initiative (the policy set Defender for Cloud assigns by default).
const MCSBInitiativeID = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"

// mcsbDomains are the benchmark's control domains, by the prefix of a
// control ID (NS-1 is a Network Security control).
var mcsbDomains = map[string]string{
	"NS": "Network Security", "IM": "Identity Management", "PA": "Privileged Access", "DP": "Data Protection",
	"AM": "Asset Management", "LT": "Logging and Threat Detection", "IR": "Incident Response",
	"PV": "Posture and Vulnerability Management", "ES": "Endpoint Security", "BR": "Backup and Recovery",
	"DS": "DevOps Security", "GS": "Governance and Strategy",
}

// GroupCounts are the compliance counts of one policy definition group,
// as policy insights' summarize gives them per group.
type GroupCounts struct {
	NonCompliantResources int
	NonCompliantPolicies  int
	CompliantResources    int
}

// ControlResult is one control of a regulatory compliance view.
type ControlResult struct {
	Control               string `json:"control"`
	Domain                string `json:"domain"`
	Group                 string `json:"group"`
	State                 string `json:"state"`
	Policies              int    `json:"policies"`
	NonCompliantPolicies  int    `json:"nonCompliantPolicies"`
	NonCompliantResources int    `json:"nonCompliantResources"`
	CompliantResources    int    `json:"compliantResources"`
}

// Control states, as the portal's regulatory compliance view shows them.
const (
	ControlPassed  = "Passed"
	ControlFailed  = "Failed"
	ControlSkipped = "Skipped"
)

// Benchmark reports an initiative's assignment per control: every
// policyDefinitionGroup of the set (the set document as ARM returns it)
// with its number of policies (groupNames of its members), the counts of
// its group from the assignment's summary, and a state: Failed with a
// non-compliant resource or policy, Passed with compliant resources only,
// Skipped when nothing was assessed (a control without automated policies,
// or without resources they apply to). Each failed control is a finding
// on the assignment.
func Benchmark(assignmentID string, set map[string]any, counts map[string]GroupCounts) ([]ControlResult, []Finding) {
	props, _ := set["properties"].(map[string]any)
	policies := map[string]int{}
	defs, _ := props["policyDefinitions"].([]any)
	for _, d := range defs {
		dm, _ := d.(map[string]any)
		names, _ := dm["groupNames"].([]any)
		for _, n := range names {
			if s, ok := n.(string); ok {
				policies[strings.ToLower(s)]++
			}
		}
	}
	lowCounts := map[string]GroupCounts{}
	for k, v := range counts {
		lowCounts[strings.ToLower(k)] = v
	}
	groups, _ := props["policyDefinitionGroups"].([]any)
	out := make([]ControlResult, 0, len(groups))
	var findings []Finding
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		name, _ := gm["name"].(string)
		if name == "" {
			continue
		}
		control := name[strings.LastIndexByte(name, '_')+1:]
		domain, _ := gm["category"].(string)
		if domain == "" {
			prefix, _, _ := strings.Cut(control, "-")
			domain = mcsbDomains[strings.ToUpper(prefix)]
		}
		c := lowCounts[strings.ToLower(name)]
		r := ControlResult{Control: control, Domain: domain, Group: name, Policies: policies[strings.ToLower(name)],
			NonCompliantPolicies: c.NonCompliantPolicies, NonCompliantResources: c.NonCompliantResources, CompliantResources: c.CompliantResources}
		switch {
		case c.NonCompliantResources > 0 || c.NonCompliantPolicies > 0:
			r.State = ControlFailed
			findings = append(findings, Finding{Report: "benchmark", Kind: "ControlFailed", Severity: Medium, ResourceID: assignmentID,
				Message: fmt.Sprintf("control %s (%s): %d non-compliant resources across %d of its %d policies", control, domain,
					c.NonCompliantResources, c.NonCompliantPolicies, r.Policies),
				Details: map[string]any{"rule": name, "control": control, "domain": domain}})
		case c.CompliantResources > 0:
			r.State = ControlPassed
		default:
			r.State = ControlSkipped
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out, findings
}
