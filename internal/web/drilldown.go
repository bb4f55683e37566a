package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
)

// maxDrillRows bounds the non-compliant resources one assignment page
// lists: the first page of the query ($top), as the portal's list shows
// the first ones.
const maxDrillRows = 250

// The drill-down names a subscription, an assignment of it (at the
// subscription or one of its resource groups) and a resource of it.
var (
	subscriptionPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$|^[0-9A-Za-z-]{1,64}$`)
	assignmentPattern   = regexp.MustCompile(`(?i)^/subscriptions/[0-9A-Za-z-]{1,64}(/resourceGroups/[-\w.()]{1,90})?/providers/Microsoft\.Authorization/policyAssignments/[^/'\s]{1,128}$`)
	resourcePattern     = regexp.MustCompile(`(?i)^/subscriptions/[0-9A-Za-z-]{1,64}/[^'\s]{1,1000}$`)
)

// drillState is one policy state as the drill-down pages show it.
type drillState struct {
	Resource, ResourceType, Definition, Reference, State, Effect, Evaluated string
	Expressions                                                             []drillExpression
}

// drillExpression is one evaluated expression of a state's
// policyEvaluationDetails.
type drillExpression struct {
	Kind, Expression, Path, Operator, Value, Target, Result string
}

type drillData struct {
	Subscription, Assignment, AssignmentName, Resource string
	States                                             []drillState
	// More says that the assignment has more non-compliant states than
	// the page lists.
	More bool
}

// odataString quotes s as an OData string literal.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// drillParams reads and checks the drill-down's query parameters; the
// error is the text to show.
func drillParams(r *http.Request, withResource bool) (*drillData, string) {
	q := r.URL.Query()
	d := &drillData{Subscription: q.Get("subscription"), Assignment: q.Get("assignment"), Resource: q.Get("resource")}
	if !subscriptionPattern.MatchString(d.Subscription) || !assignmentPattern.MatchString(d.Assignment) ||
		!strings.HasPrefix(strings.ToLower(d.Assignment), "/subscriptions/"+strings.ToLower(d.Subscription)+"/") {
		return nil, "The link names no subscription or no policy assignment of it."
	}
	if withResource && (!resourcePattern.MatchString(d.Resource) ||
		!strings.HasPrefix(strings.ToLower(d.Resource), "/subscriptions/"+strings.ToLower(d.Subscription)+"/")) {
		return nil, "The link names no resource of the subscription."
	}
	d.AssignmentName = d.Assignment[strings.LastIndexByte(d.Assignment, '/')+1:]
	return d, ""
}

// policyStates is a Policy Insights client that calls as the user.
func (c *Console) policyStates(s *session) (*armpolicyinsights.PolicyStatesClient, error) {
	return armpolicyinsights.NewPolicyStatesClient(userCredential{s}, c.opts.ARM)
}

// drillStart reads a drill-down page's parameters (drillParams) and makes
// the user's Policy Insights client. When either fails it answers the
// request and returns a nil *drillData.
func (c *Console) drillStart(w http.ResponseWriter, r *http.Request, s *session, withResource bool) (*drillData, *armpolicyinsights.PolicyStatesClient) {
	d, bad := drillParams(r, withResource)
	if d == nil {
		c.fail(w, r, http.StatusBadRequest, bad, nil)
		return nil, nil
	}
	client, err := c.policyStates(s)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The console cannot reach Policy Insights.", err)
		return nil, nil
	}
	return d, client
}

// complianceAssignment lists an assignment's non-compliant resources: the
// latest policy states of the subscription with the assignment's ID,
// through armpolicyinsights as the user.
func (c *Console) complianceAssignment(w http.ResponseWriter, r *http.Request, s *session) {
	d, client := c.drillStart(w, r, s, false)
	if d == nil {
		return
	}
	pager := client.NewListQueryResultsForSubscriptionPager(armpolicyinsights.PolicyStatesResourceLatest, d.Subscription,
		&armpolicyinsights.QueryOptions{Top: to.Ptr[int32](maxDrillRows), OrderBy: to.Ptr("ResourceId asc"),
			Filter: to.Ptr("PolicyAssignmentId eq " + odataString(d.Assignment) + " and ComplianceState eq 'NonCompliant'")}, nil)
	page, err := pager.NextPage(r.Context())
	if err != nil {
		c.readFail(w, r, err)
		return
	}
	for _, st := range page.Value {
		d.States = append(d.States, stateRow(st))
	}
	d.More = pager.More()
	c.render(w, r, "assignment", http.StatusOK, pageData{Title: "Non-compliant resources", User: s, Drill: d})
}

// complianceResource shows one resource's latest states under an
// assignment with the expressions their evaluation found
// ($expand=PolicyEvaluationDetails).
func (c *Console) complianceResource(w http.ResponseWriter, r *http.Request, s *session) {
	d, client := c.drillStart(w, r, s, true)
	if d == nil {
		return
	}
	pager := client.NewListQueryResultsForResourcePager(armpolicyinsights.PolicyStatesResourceLatest, d.Resource,
		&armpolicyinsights.QueryOptions{Expand: to.Ptr("PolicyEvaluationDetails"), Top: to.Ptr[int32](maxDrillRows),
			Filter: to.Ptr("PolicyAssignmentId eq " + odataString(d.Assignment))}, nil)
	page, err := pager.NextPage(r.Context())
	if err != nil {
		c.readFail(w, r, err)
		return
	}
	for _, st := range page.Value {
		d.States = append(d.States, stateRow(st))
	}
	// Non-compliant first, then by definition reference.
	sort.SliceStable(d.States, func(i, j int) bool {
		if a, b := d.States[i].State == "NonCompliant", d.States[j].State == "NonCompliant"; a != b {
			return a
		}
		return d.States[i].Reference < d.States[j].Reference
	})
	c.render(w, r, "resource", http.StatusOK, pageData{Title: "Policy evaluation", User: s, Drill: d})
}

func stateRow(st *armpolicyinsights.PolicyState) drillState {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	row := drillState{Resource: str(st.ResourceID), ResourceType: str(st.ResourceType), Definition: str(st.PolicyDefinitionName),
		Reference: str(st.PolicyDefinitionReferenceID), State: str(st.ComplianceState), Effect: str(st.PolicyDefinitionAction)}
	if st.Timestamp != nil {
		row.Evaluated = st.Timestamp.UTC().Format(time.RFC3339)
	}
	if st.PolicyEvaluationDetails != nil {
		for _, x := range st.PolicyEvaluationDetails.EvaluatedExpressions {
			if x == nil {
				continue
			}
			row.Expressions = append(row.Expressions, drillExpression{Kind: str(x.ExpressionKind), Expression: str(x.Expression),
				Path: str(x.Path), Operator: str(x.Operator), Value: jsonText(x.ExpressionValue), Target: jsonText(x.TargetValue), Result: str(x.Result)})
		}
	}
	return row
}

// jsonText shows a value of an evaluated expression as JSON.
func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// readFail shows a refused read: the API's code for 4xx, a generic text
// otherwise.
func (c *Console) readFail(w http.ResponseWriter, r *http.Request, err error) {
	msg, status := queryError(err)
	msg = strings.Replace(msg, "The query was refused", "The read was refused", 1)
	if status == http.StatusBadGateway {
		msg = "The management API could not be read; try again."
	}
	c.fail(w, r, status, msg, err)
}

// drillLink is the assignment page of an overview bar.
func drillLink(subscription, assignment string) string {
	return Prefix + "compliance/assignment?" + url.Values{"subscription": {subscription}, "assignment": {assignment}}.Encode()
}
