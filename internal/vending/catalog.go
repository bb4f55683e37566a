package vending

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/steward-gov/steward/internal/arm"
)

// The catalog's tables, owned by the platform team.
const (
	// TableSubscriptions has one entity per supported subscription
	// (PartitionKey "subscription", RowKey the subscription ID).
	TableSubscriptions = "vendingsubscriptions"
	// TableAuthorizations has one entity per principal and subscription
	// (PartitionKey the user's or group's object ID, RowKey the
	// subscription ID).
	TableAuthorizations = "vendingauthorizations"
	// TableRequests records who asked for what (PartitionKey the caller's
	// object ID, RowKey the request ID).
	TableRequests = "vendingrequests"
	// TableAudit records every catalog change (PartitionKey the table,
	// RowKey a time-ordered ID).
	TableAudit = "vendingaudit"
)

// CatalogTables are the tables the valet key opens for reading.
var CatalogTables = []string{TableSubscriptions, TableAuthorizations}

// ExecutionContext is the identity groups of a subscription are created
// as: an application of TenantID (the home tenant or another one) whose
// credential is the certificate CertificateName of the subscription's own
// vault VaultURL, managed by that subscription's owners. The certificate's
// key is not exportable: the client assertion is signed in the vault.
type ExecutionContext struct {
	TenantID        string `json:"tenantId"`
	ClientID        string `json:"clientId"`
	VaultURL        string `json:"vaultUrl"`
	CertificateName string `json:"certificateName"`
}

// TagRule is a tag every new group gets (Required) or may get, with the
// values allowed (none: any value).
type TagRule struct {
	Name     string   `json:"name"`
	Required bool     `json:"required,omitempty"`
	Allowed  []string `json:"allowedValues,omitempty"`
}

// RoleAssignment gives an Entra group (or any principal) a built-in or
// custom role on every new group, with an optional ABAC condition.
type RoleAssignment struct {
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType,omitempty"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	Condition        string `json:"condition,omitempty"`
}

// PolicyAssignment assigns a policy definition or initiative with its
// parameters on every new group.
type PolicyAssignment struct {
	Name         string         `json:"name"`
	DefinitionID string         `json:"policyDefinitionId"`
	Parameters   map[string]any `json:"parameters,omitempty"`
}

// Subscription is a supported subscription and what its new groups get.
type Subscription struct {
	ID          string             `json:"subscriptionId"`
	DisplayName string             `json:"displayName,omitempty"`
	Execution   ExecutionContext   `json:"executionContext"`
	Tags        []TagRule          `json:"tags,omitempty"`
	Roles       []RoleAssignment   `json:"roleAssignments,omitempty"`
	Policies    []PolicyAssignment `json:"policyAssignments,omitempty"`
	// Naming is the group name pattern over {env}, {costCenter}, {name}
	// and {region}; empty means DefaultNaming.
	Naming string `json:"naming,omitempty"`
	// Lock puts a CanNotDelete lock on every new group.
	Lock bool `json:"deleteLock,omitempty"`
	// Approval, when set, makes requests for some environments wait for
	// a member of an Entra group.
	Approval *Approval `json:"approval,omitempty"`
	// Budget, when set, is a Microsoft.Consumption budget every new group
	// gets.
	Budget *Budget `json:"budget,omitempty"`
}

// Budget is the cost budget of every new group: Amount per TimeGrain
// (Monthly, Quarterly, Annually, ...) from the first day of the month the
// group is created in, with notifications at percentages of the amount.
type Budget struct {
	Amount        float64              `json:"amount"`
	TimeGrain     string               `json:"timeGrain"`
	Notifications []BudgetNotification `json:"notifications,omitempty"`
}

// BudgetNotification mails ContactEmails when the actual (or forecasted)
// cost reaches Threshold percent of the budget.
type BudgetNotification struct {
	Threshold     float64  `json:"threshold"`
	Operator      string   `json:"operator,omitempty"`
	ThresholdType string   `json:"thresholdType,omitempty"`
	ContactEmails []string `json:"contactEmails"`
}

// Approval names the environments whose requests wait for approval and
// the Entra group whose members approve or reject them.
type Approval struct {
	Environments    []string `json:"environments"`
	ApproverGroupID string   `json:"approverGroupId"`
}

// needsApproval returns the approver group of a request for env, or "".
func (s *Subscription) needsApproval(env string) string {
	if s.Approval == nil || !slices.Contains(s.Approval.Environments, env) {
		return ""
	}
	return strings.ToLower(s.Approval.ApproverGroupID)
}

// DefaultNaming is the naming rule of a subscription that names none.
const DefaultNaming = "rg-{env}-{costCenter}-{name}"

// Authorization lets a user or group ask for groups in one subscription
// with the listed cost centers, environments and regions.
type Authorization struct {
	PrincipalID    string   `json:"principalId"`
	SubscriptionID string   `json:"subscriptionId"`
	CostCenters    []string `json:"costCenters"`
	Environments   []string `json:"environments"`
	Regions        []string `json:"regions"`
}

// Validate checks a subscription entry before it is written.
func (s *Subscription) Validate() error {
	s.ID = strings.ToLower(strings.TrimSpace(s.ID))
	if !isGUID(s.ID) {
		return arm.BadRequest("InvalidSubscriptionId", "The subscription ID '%s' is not a GUID.", clip(s.ID))
	}
	e := s.Execution
	if !isGUID(e.TenantID) || !isGUID(e.ClientID) || !strings.HasPrefix(e.VaultURL, "https://") || !validName(e.CertificateName, 127) {
		return arm.BadRequest("InvalidExecutionContext", "The execution context needs tenantId and clientId (GUIDs), vaultUrl (https://) and certificateName (the certificate in that vault whose key signs its client assertions).")
	}
	for _, t := range s.Tags {
		if t.Name == "" {
			return arm.BadRequest("InvalidTagRule", "A tag rule has no name.")
		}
	}
	for _, r := range s.Roles {
		if !isGUID(r.PrincipalID) || !strings.Contains(strings.ToLower(r.RoleDefinitionID), "/providers/microsoft.authorization/roledefinitions/") {
			return arm.BadRequest("InvalidRoleAssignment", "A role assignment needs a principalId (GUID) and a roleDefinitionId (/providers/Microsoft.Authorization/roleDefinitions/{id}).")
		}
	}
	for _, p := range s.Policies {
		if !validName(p.Name, 64) || !strings.Contains(strings.ToLower(p.DefinitionID), "/providers/microsoft.authorization/policy") {
			return arm.BadRequest("InvalidPolicyAssignment", "A policy assignment needs a name and a policyDefinitionId (a policy definition or set definition ID).")
		}
	}
	if b := s.Budget; b != nil {
		if b.Amount <= 0 || !slices.Contains([]string{"Monthly", "Quarterly", "Annually", "BillingMonth", "BillingQuarter", "BillingAnnual"}, b.TimeGrain) || len(b.Notifications) > 5 {
			return arm.BadRequest("InvalidBudget", "A budget needs an amount above 0, a timeGrain (Monthly, Quarterly, Annually, BillingMonth, BillingQuarter or BillingAnnual) and at most 5 notifications.")
		}
		for _, n := range b.Notifications {
			if n.Threshold <= 0 || n.Threshold > 1000 || len(n.ContactEmails) == 0 {
				return arm.BadRequest("InvalidBudget", "A budget notification needs a threshold above 0 and at most 1000 (percent) and contactEmails.")
			}
		}
	}
	if a := s.Approval; a != nil && (!isGUID(a.ApproverGroupID) || len(a.Environments) == 0) {
		return arm.BadRequest("InvalidApproval", "An approval needs approverGroupId (an Entra group's object ID) and at least one environment.")
	}
	n := s.Naming
	if n == "" {
		n = DefaultNaming
	}
	if !strings.Contains(n, "{name}") {
		return arm.BadRequest("InvalidNamingRule", "The naming rule '%s' must contain {name}.", clip(n))
	}
	return nil
}

// Validate checks an authorization before it is written.
func (a *Authorization) Validate() error {
	a.PrincipalID = strings.ToLower(strings.TrimSpace(a.PrincipalID))
	a.SubscriptionID = strings.ToLower(strings.TrimSpace(a.SubscriptionID))
	if !isGUID(a.PrincipalID) || !isGUID(a.SubscriptionID) {
		return arm.BadRequest("InvalidAuthorization", "An authorization needs principalId and subscriptionId (GUIDs).")
	}
	if len(a.CostCenters) == 0 || len(a.Environments) == 0 || len(a.Regions) == 0 {
		return arm.BadRequest("InvalidAuthorization", "An authorization needs at least one cost center, environment and region.")
	}
	return nil
}

// Catalog is the catalog as read at one time.
type Catalog struct {
	Subscriptions  map[string]Subscription
	Authorizations []Authorization
}

// entity is a catalog row: the keys and the item as JSON in Spec.
type entity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Spec         string `json:"Spec"`
}

const subscriptionPartition = "subscription"

// TableClient opens one table; the catalog is read and written through
// it, so the key it carries decides what is allowed.
type TableClient func(table string) (*aztables.Client, error)

// ReadCatalog reads the catalog's tables.
func ReadCatalog(ctx context.Context, open TableClient) (*Catalog, error) {
	c := &Catalog{Subscriptions: map[string]Subscription{}}
	err := readAll(ctx, open, TableSubscriptions, func(b []byte) error {
		var s Subscription
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		c.Subscriptions[s.ID] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readAll(ctx, open, TableAuthorizations, func(b []byte) error {
		var a Authorization
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		c.Authorizations = append(c.Authorizations, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func readAll(ctx context.Context, open TableClient, table string, each func([]byte) error) error {
	tc, err := open(table)
	if err != nil {
		return err
	}
	pager := tc.NewListEntitiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("vending: reading %s: %w", table, err)
		}
		for _, raw := range page.Entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("vending: reading %s: %w", table, err)
			}
			if err := each([]byte(e.Spec)); err != nil {
				return fmt.Errorf("vending: %s %s/%s: %w", table, e.PartitionKey, e.RowKey, err)
			}
		}
	}
	return nil
}

// Writer changes the catalog for the platform team, recording each change
// in the audit table.
type Writer struct {
	Open TableClient
	Now  func() time.Time
}

// EnsureTables creates the catalog's tables that are missing.
func (w Writer) EnsureTables(ctx context.Context) error {
	for _, t := range []string{TableSubscriptions, TableAuthorizations, TableRequests, TableAudit} {
		tc, err := w.Open(t)
		if err != nil {
			return err
		}
		if _, err := tc.CreateTable(ctx, nil); err != nil && !isCode(err, "TableAlreadyExists") {
			return fmt.Errorf("vending: creating table %s: %w", t, err)
		}
	}
	return nil
}

// PutSubscription adds or replaces a subscription entry.
func (w Writer) PutSubscription(ctx context.Context, who string, s Subscription) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return w.put(ctx, who, TableSubscriptions, subscriptionPartition, s.ID, s)
}

// PutAuthorization adds or replaces an authorization.
func (w Writer) PutAuthorization(ctx context.Context, who string, a Authorization) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return w.put(ctx, who, TableAuthorizations, a.PrincipalID, a.SubscriptionID, a)
}

func (w Writer) put(ctx context.Context, who, table, pk, rk string, v any) error {
	spec, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tc, err := w.Open(table)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(entity{PartitionKey: pk, RowKey: rk, Spec: string(spec)})
	if _, err := tc.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
		return fmt.Errorf("vending: writing %s: %w", table, err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	t := now().UTC()
	audit, err := w.Open(TableAudit)
	if err != nil {
		return err
	}
	rec, _ := json.Marshal(map[string]any{"PartitionKey": table, "RowKey": t.Format("20060102T150405.000000000Z") + "-" + pk + "-" + rk,
		"Who": who, "What": "put " + pk + "/" + rk, "When": t.Format(time.RFC3339Nano), "Spec": string(spec)})
	if _, err := audit.AddEntity(ctx, rec, nil); err != nil {
		return fmt.Errorf("vending: auditing: %w", err)
	}
	return nil
}

// Caller is who calls the public API: the token's object ID and groups,
// and, for a user, how and when the user signed in (amr, auth_time).
type Caller struct {
	ObjectID, TenantID, AppID string
	Groups                    []string
	App                       bool
	AMR                       []string
	AuthTime                  time.Time
}

// Grant is what a caller may ask for in one subscription: the union of the
// authorizations of the caller and of its groups.
type Grant struct {
	Subscription                       Subscription
	CostCenters, Environments, Regions []string
}

// Grants returns the caller's grants by subscription ID, only for
// subscriptions the catalog supports.
func (c *Catalog) Grants(who Caller) map[string]*Grant {
	ids := map[string]bool{strings.ToLower(who.ObjectID): true}
	for _, g := range who.Groups {
		ids[strings.ToLower(g)] = true
	}
	out := map[string]*Grant{}
	for _, a := range c.Authorizations {
		if !ids[strings.ToLower(a.PrincipalID)] {
			continue
		}
		sub, ok := c.Subscriptions[a.SubscriptionID]
		if !ok {
			continue
		}
		g := out[sub.ID]
		if g == nil {
			g = &Grant{Subscription: sub}
			out[sub.ID] = g
		}
		g.CostCenters = union(g.CostCenters, a.CostCenters)
		g.Environments = union(g.Environments, a.Environments)
		g.Regions = union(g.Regions, a.Regions)
	}
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			a = append(a, s)
			seen[s] = true
		}
	}
	sort.Strings(a)
	return a
}
