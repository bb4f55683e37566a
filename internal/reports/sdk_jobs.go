package reports

import (
	"context"
	"errors"
	"fmt"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// networkAPIVersion is the Microsoft.Network api-version NSGs, network
// interfaces and virtual networks are read with (for their properties).
const networkAPIVersion = "2024-05-01"

// NetworkFrom runs the network report on a subscription: its NSGs,
// virtual networks and network interfaces, each read in full.
func NetworkFrom(ctx context.Context, src Source) ([]Finding, error) {
	c, err := armresources.NewClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	err = eachResource(ctx, c, func(r *armresources.GenericResourceExpanded) error {
		switch strings.ToLower(deref(r.Type)) {
		case typeNSG, typeNIC, typeVNet:
			full, err := c.GetByID(ctx, deref(r.ID), networkAPIVersion, nil)
			if err != nil {
				return err
			}
			docs = append(docs, AsDoc(full.GenericResource))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return Network(docs)
}

// LoggingFrom runs the logging report on a subscription: its resources,
// the diagnostic settings of those of the judged types and the data
// collection rule associations of its virtual machines and scale sets.
func LoggingFrom(ctx context.Context, src Source) ([]Finding, error) {
	c, err := armresources.NewClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	diag, err := armmonitor.NewDiagnosticSettingsClient(src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	dcra, err := armmonitor.NewDataCollectionRuleAssociationsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	err = eachResource(ctx, c, func(r *armresources.GenericResourceExpanded) error {
		id, typ := deref(r.ID), strings.ToLower(deref(r.Type))
		docs = append(docs, AsDoc(r))
		var err error
		switch {
		case diagnosticTypes[typ]:
			if docs, err = appendDocs(ctx, docs, diag.NewListPager(id, nil),
				func(r armmonitor.DiagnosticSettingsClientListResponse) []*armmonitor.DiagnosticSettingsResource {
					return r.Value
				}); err != nil {
				return fmt.Errorf("diagnostic settings of %s: %w", id, err)
			}
		case typ == typeVM || typ == typeVMSS:
			if docs, err = appendDocs(ctx, docs, dcra.NewListByResourcePager(id, nil),
				func(r armmonitor.DataCollectionRuleAssociationsClientListByResourceResponse) []*armmonitor.DataCollectionRuleAssociationProxyOnlyResource {
					return r.Value
				}); err != nil {
				return fmt.Errorf("data collection rule associations of %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return Logging(docs), nil
}

// BenchmarkFrom runs the benchmark report on the subscription-level
// policy assignment assignmentName of the built-in initiative initiative:
// it triggers an evaluation, then summarizes compliance per control. ok
// is false when no such assignment exists (nothing to report).
func BenchmarkFrom(ctx context.Context, src Source, initiative, assignmentName string) (controls []ControlResult, findings []Finding, ok bool, err error) {
	setName := initiative[strings.LastIndexByte(initiative, '/')+1:]
	sets, err := armpolicy.NewSetDefinitionsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, nil, false, err
	}
	assignments, err := armpolicy.NewAssignmentsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, nil, false, err
	}
	a, err := assignments.Get(ctx, "/subscriptions/"+src.Subscription, assignmentName, nil)
	if err != nil {
		if NotFound(err) {
			return nil, nil, false, nil
		}
		return nil, nil, false, err
	}
	if a.Properties == nil || !strings.EqualFold(deref(a.Properties.PolicyDefinitionID), initiative) {
		return nil, nil, false, fmt.Errorf("assignment %s does not assign %s", assignmentName, initiative)
	}
	set, err := sets.GetBuiltIn(ctx, setName, nil)
	if err != nil {
		return nil, nil, false, err
	}
	states, err := armpolicyinsights.NewPolicyStatesClient(src.Credential, src.Options)
	if err != nil {
		return nil, nil, false, err
	}
	poller, err := states.BeginTriggerSubscriptionEvaluation(ctx, src.Subscription, nil)
	if err != nil {
		return nil, nil, false, err
	}
	if _, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second}); err != nil {
		return nil, nil, false, err
	}
	sum, err := states.SummarizeForSubscriptionLevelPolicyAssignment(ctx, armpolicyinsights.PolicyStatesSummaryResourceTypeLatest,
		src.Subscription, assignmentName, nil, nil)
	if err != nil {
		return nil, nil, false, err
	}
	controls, findings = Benchmark(deref(a.ID), AsDoc(set.SetDefinition), GroupCountsOf(sum.SummarizeResults))
	return controls, findings, true, nil
}

// GroupCountsOf reads the per-group (per-control) counts of a policy
// states summary.
func GroupCountsOf(sum armpolicyinsights.SummarizeResults) map[string]GroupCounts {
	counts := map[string]GroupCounts{}
	for _, s := range sum.Value {
		for _, pa := range s.PolicyAssignments {
			for _, g := range pa.PolicyGroups {
				if g == nil || g.Results == nil {
					continue
				}
				c := GroupCounts{NonCompliantResources: int(deref32(g.Results.NonCompliantResources)),
					NonCompliantPolicies: int(deref32(g.Results.NonCompliantPolicies))}
				for _, d := range g.Results.ResourceDetails {
					if d != nil && strings.EqualFold(deref(d.ComplianceState), "compliant") {
						c.CompliantResources += int(deref32(d.Count))
					}
				}
				counts[deref(g.PolicyGroupName)] = c
			}
		}
	}
	return counts
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// NotFound reports whether err is an HTTP 404 from Azure.
func NotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}
