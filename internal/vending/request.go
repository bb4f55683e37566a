package vending

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/arm"
)

// Request is a team's request for a resource group (Request-ResourceGroup).
type Request struct {
	SubscriptionID string            `json:"subscriptionId"`
	Name           string            `json:"name"`
	Environment    string            `json:"environment"`
	CostCenter     string            `json:"costCenter"`
	Region         string            `json:"region"`
	Tags           map[string]string `json:"tags,omitempty"`
}

// Plan is a validated request: the group's name, location and tags and
// the subscription entry that says what else it gets.
type Plan struct {
	Subscription Subscription
	Group        string
	Location     string
	Tags         map[string]string
	// RequestID is the request the plan carries out; the group gets it
	// in its TagRequest tag, so that a run taken over (see
	// [Public.TakeOver]) knows the group as its own.
	RequestID string
}

// Tag names the service sets from the request.
const (
	TagEnvironment = "Environment"
	TagCostCenter  = "CostCenter"
	// TagRequest names, on the group, the request that created it.
	TagRequest = "VendingRequest"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.()-]*$`)

// Validate checks req against the catalog and the caller's grants and
// returns the plan, or a 4xx error naming what is not allowed.
func (c *Catalog) Validate(who Caller, req Request) (Plan, error) {
	req.SubscriptionID = strings.ToLower(strings.TrimSpace(req.SubscriptionID))
	for _, f := range []struct{ name, v string }{{"subscriptionId", req.SubscriptionID}, {"name", req.Name},
		{"environment", req.Environment}, {"costCenter", req.CostCenter}, {"region", req.Region}} {
		if f.v == "" {
			return Plan{}, arm.BadRequest("MissingProperty", "The request needs '%s'.", f.name)
		}
	}
	if !validName(req.Name, 40) {
		return Plan{}, arm.BadRequest("InvalidName", "The name '%s' is not valid: 1 to 40 letters, digits, '-', '_', '.', '(' or ')', starting with a letter or digit.", clip(req.Name))
	}
	g := c.Grants(who)[req.SubscriptionID]
	if g == nil {
		return Plan{}, arm.Errorf(http.StatusForbidden, "SubscriptionNotAuthorized",
			"You are not authorized to request resource groups in subscription '%s'.", clip(req.SubscriptionID))
	}
	for _, f := range []struct {
		what, v string
		allowed []string
	}{{"environment", req.Environment, g.Environments}, {"cost center", req.CostCenter, g.CostCenters}, {"region", req.Region, g.Regions}} {
		if !slices.Contains(f.allowed, f.v) {
			return Plan{}, arm.Errorf(http.StatusForbidden, "NotAuthorized",
				"You are not authorized to use %s '%s' in subscription '%s'; allowed: %s.", f.what, clip(f.v), req.SubscriptionID, strings.Join(f.allowed, ", "))
		}
	}
	sub := g.Subscription
	tags := map[string]string{TagEnvironment: req.Environment, TagCostCenter: req.CostCenter}
	rules := map[string]TagRule{}
	for _, r := range sub.Tags {
		rules[strings.ToLower(r.Name)] = r
	}
	for k, v := range req.Tags {
		lk := strings.ToLower(k)
		if lk == strings.ToLower(TagEnvironment) || lk == strings.ToLower(TagCostCenter) {
			return Plan{}, arm.BadRequest("InvalidTag", "The tag '%s' is set from the request's %s; do not pass it in tags.", k, strings.ToLower(k[:1])+k[1:])
		}
		if lk == strings.ToLower(TagRequest) {
			return Plan{}, arm.BadRequest("InvalidTag", "The tag '%s' is set by the service to the request's ID; do not pass it in tags.", k)
		}
		r, ok := rules[lk]
		if !ok {
			return Plan{}, arm.BadRequest("InvalidTag", "The tag '%s' is not in subscription '%s''s catalog; allowed tags: %s.", clip(k), sub.ID, ruleNames(sub.Tags))
		}
		if len(r.Allowed) > 0 && !slices.Contains(r.Allowed, v) {
			return Plan{}, arm.BadRequest("InvalidTagValue", "The value '%s' of tag '%s' is not allowed; allowed values: %s.", clip(v), r.Name, strings.Join(r.Allowed, ", "))
		}
		tags[r.Name] = v
	}
	for _, r := range sub.Tags {
		if _, ok := tags[r.Name]; r.Required && !ok {
			return Plan{}, arm.BadRequest("MissingTag", "The tag '%s' is required in subscription '%s'.", r.Name, sub.ID)
		}
	}
	naming := sub.Naming
	if naming == "" {
		naming = DefaultNaming
	}
	name := strings.NewReplacer("{env}", req.Environment, "{costCenter}", req.CostCenter, "{name}", req.Name, "{region}", req.Region).Replace(naming)
	if !validName(name, 90) {
		return Plan{}, arm.BadRequest("InvalidName", "The resource group name '%s' made by the naming rule is not valid.", clip(name))
	}
	return Plan{Subscription: sub, Group: name, Location: req.Region, Tags: tags}, nil
}

func ruleNames(rs []TagRule) string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	sort.Strings(n)
	if len(n) == 0 {
		return "(none)"
	}
	return strings.Join(n, ", ")
}

// Created is what Provision made, by resource ID, in creation order.
type Created []string

// Provision creates the plan's group with its tags, role assignments,
// policy assignments and lock through the ARM SDK clients signed in as
// cred. When a step fails it deletes what it created, newest first, and
// returns the failure. An existing group is refused: vending never takes
// over a group someone else made. A group tagged with the plan's
// RequestID was made by an earlier run of the same request (on a replica
// that died): it is kept, not created again, and the steps after it are
// written under the same names (role assignments are named from their
// scope, principal and role), so the run finishes what the earlier one
// began.
func Provision(ctx context.Context, cred azcore.TokenCredential, opts *azarm.ClientOptions, p Plan) (Created, error) {
	sub := p.Subscription.ID
	rgs, err := armresources.NewResourceGroupsClient(sub, cred, opts)
	if err != nil {
		return nil, err
	}
	ras, err := armauthorization.NewRoleAssignmentsClient(sub, cred, opts)
	if err != nil {
		return nil, err
	}
	pas, err := armpolicy.NewAssignmentsClient(sub, cred, opts)
	if err != nil {
		return nil, err
	}
	locks, err := armlocks.NewManagementLocksClient(sub, cred, opts)
	if err != nil {
		return nil, err
	}
	generic, err := armresources.NewClient(sub, cred, opts)
	if err != nil {
		return nil, err
	}
	scope := "/subscriptions/" + sub + "/resourceGroups/" + p.Group
	ok, err := rgs.CheckExistence(ctx, p.Group, nil)
	if err != nil {
		return nil, fmt.Errorf("resource group: %w", short(err))
	}
	var made Created
	if ok.Success {
		g, err := rgs.Get(ctx, p.Group, nil)
		if err != nil {
			return nil, fmt.Errorf("resource group: %w", short(err))
		}
		if p.RequestID == "" || g.Tags[TagRequest] == nil || *g.Tags[TagRequest] != p.RequestID {
			return nil, arm.Errorf(http.StatusConflict, "ResourceGroupExists", "The resource group '%s' already exists in subscription '%s'.", p.Group, sub)
		}
		made = append(made, *g.ID)
	}
	undo := func(cause error) (Created, error) {
		for i := len(made) - 1; i >= 0; i-- {
			id := made[i]
			var err error
			switch {
			case strings.Contains(id, "/providers/Microsoft.Authorization/locks/"):
				_, err = locks.DeleteByScope(ctx, scope, lastSegment(id), nil)
			case strings.Contains(id, "/providers/Microsoft.Authorization/policyAssignments/"):
				_, err = pas.Delete(ctx, scope, lastSegment(id), nil)
			case strings.Contains(id, "/providers/Microsoft.Authorization/roleAssignments/"):
				_, err = ras.DeleteByID(ctx, id, nil)
			case strings.Contains(id, "/providers/Microsoft.Consumption/budgets/"):
				poller, perr := generic.BeginDeleteByID(ctx, id, BudgetAPIVersion, nil)
				if err = perr; err == nil {
					_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond})
				}
			default:
				poller, perr := rgs.BeginDelete(ctx, p.Group, nil)
				if err = perr; err == nil {
					_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond})
				}
			}
			if err != nil {
				cause = errors.Join(cause, fmt.Errorf("undoing %s: %w", id, short(err)))
			}
		}
		return nil, cause
	}
	if len(made) == 0 {
		tags := map[string]*string{}
		for k, v := range p.Tags {
			tags[k] = to.Ptr(v)
		}
		if p.RequestID != "" {
			tags[TagRequest] = to.Ptr(p.RequestID)
		}
		rg, err := rgs.CreateOrUpdate(ctx, p.Group, armresources.ResourceGroup{Location: to.Ptr(p.Location), Tags: tags}, nil)
		if err != nil {
			return nil, fmt.Errorf("resource group: %w", short(err))
		}
		made = append(made, *rg.ID)
	}
	for _, r := range p.Subscription.Roles {
		name := deterministicGUID(scope, r.PrincipalID, r.RoleDefinitionID)
		roleID := r.RoleDefinitionID
		if strings.HasPrefix(roleID, "/providers/") {
			roleID = "/subscriptions/" + sub + roleID
		}
		props := &armauthorization.RoleAssignmentProperties{PrincipalID: to.Ptr(r.PrincipalID), RoleDefinitionID: to.Ptr(roleID)}
		if r.PrincipalType != "" {
			props.PrincipalType = to.Ptr(armauthorization.PrincipalType(r.PrincipalType))
		}
		if r.Condition != "" {
			props.Condition, props.ConditionVersion = to.Ptr(r.Condition), to.Ptr("2.0")
		}
		res, err := ras.Create(ctx, scope, name, armauthorization.RoleAssignmentCreateParameters{Properties: props}, nil)
		if err != nil {
			return undo(fmt.Errorf("role assignment %s for %s: %w", r.RoleDefinitionID, r.PrincipalID, short(err)))
		}
		made = append(made, *res.ID)
	}
	for _, pa := range p.Subscription.Policies {
		params := map[string]*armpolicy.ParameterValuesValue{}
		for k, v := range pa.Parameters {
			params[k] = &armpolicy.ParameterValuesValue{Value: v}
		}
		res, err := pas.Create(ctx, scope, pa.Name, armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
			PolicyDefinitionID: to.Ptr(pa.DefinitionID), Parameters: params, DisplayName: to.Ptr(pa.Name)}}, nil)
		if err != nil {
			return undo(fmt.Errorf("policy assignment %s: %w", pa.Name, short(err)))
		}
		made = append(made, *res.ID)
	}
	if b := p.Subscription.Budget; b != nil {
		id, err := createBudget(ctx, generic, scope, b, time.Now().UTC())
		if err != nil {
			return undo(fmt.Errorf("budget: %w", short(err)))
		}
		made = append(made, id)
	}
	if p.Subscription.Lock {
		res, err := locks.CreateOrUpdateByScope(ctx, scope, "vending-do-not-delete", armlocks.ManagementLockObject{Properties: &armlocks.ManagementLockProperties{
			Level: to.Ptr(armlocks.LockLevelCanNotDelete), Notes: to.Ptr("Created by Steward vending; ask the platform team to remove it.")}}, nil)
		if err != nil {
			return undo(fmt.Errorf("delete lock: %w", short(err)))
		}
		made = append(made, *res.ID)
	}
	return made, nil
}

// BudgetAPIVersion is the Microsoft.Consumption api-version budgets are
// written with (through the generic resources client: the Azure SDK for
// Go's armconsumption is not among Steward's dependencies).
const BudgetAPIVersion = "2023-05-01"

// BudgetName is the name of the budget vending puts on a new group.
const BudgetName = "vending-budget"

// createBudget puts the catalog's budget on the group at scope, starting
// the first day of now's month.
func createBudget(ctx context.Context, generic *armresources.Client, scope string, b *Budget, now time.Time) (string, error) {
	notes := map[string]any{}
	for _, n := range b.Notifications {
		op, tt := n.Operator, n.ThresholdType
		if op == "" {
			op = "GreaterThanOrEqualTo"
		}
		if tt == "" {
			tt = "Actual"
		}
		notes[fmt.Sprintf("%s%s%g", strings.ToLower(tt), op, n.Threshold)] = map[string]any{"enabled": true, "operator": op,
			"threshold": n.Threshold, "thresholdType": tt, "contactEmails": n.ContactEmails}
	}
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	id := scope + "/providers/Microsoft.Consumption/budgets/" + BudgetName
	poller, err := generic.BeginCreateOrUpdateByID(ctx, id, BudgetAPIVersion, armresources.GenericResource{Properties: map[string]any{
		"category": "Cost", "amount": b.Amount, "timeGrain": b.TimeGrain,
		"timePeriod":    map[string]any{"startDate": start.Format(time.RFC3339)},
		"notifications": notes}}, nil)
	if err != nil {
		return "", err
	}
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond})
	if err != nil {
		return "", err
	}
	if res.ID != nil {
		id = *res.ID
	}
	return id, nil
}

// deterministicGUID names a role assignment from its scope, principal and
// role, so a retried request makes the same assignment.
func deterministicGUID(parts ...string) string {
	h := sha1.Sum([]byte(strings.ToLower(strings.Join(parts, "|"))))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// short is an SDK response error as its ARM error (the upstream status,
// code and message), without the request dump azcore's Error() carries,
// so a request's error names the cause in a line.
func short(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.RawResponse == nil {
		return err
	}
	body, _ := runtime.Payload(re.RawResponse)
	if e := arm.DecodeError(re.StatusCode, body); e != nil {
		return e
	}
	code := re.ErrorCode
	if code == "" {
		// A HEAD answer has no body: name the status.
		code = strings.ReplaceAll(http.StatusText(re.StatusCode), " ", "")
	}
	return arm.Errorf(re.StatusCode, code, "%s %s answered %d.", re.RawResponse.Request.Method, re.RawResponse.Request.URL.Path, re.StatusCode)
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isGUID(s string) bool { return guidRE.MatchString(s) }

func validName(s string, max int) bool {
	return len(s) >= 1 && len(s) <= max && nameRE.MatchString(s) && !strings.HasSuffix(s, ".")
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

func isCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}
