package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// Source is where the reports read an estate: a subscription of Azure
// Resource Manager (or of Steward's), through the Azure SDK.
type Source struct {
	Credential   azcore.TokenCredential
	Options      *azarm.ClientOptions
	Subscription string
}

// MaxActivityDays is how far back the activity log goes (Azure keeps 90
// days).
const MaxActivityDays = 90

// vmAPIVersion is the Microsoft.Compute api-version virtual machines are
// read with (for their image reference).
const vmAPIVersion = "2024-07-01"

// EventOf turns an activity event into the rogue report's Event; ok is
// false for events that record no allowed operation.
func EventOf(e *armmonitor.EventData) (Event, bool) {
	if !Succeeded(e) || e.OperationName == nil {
		return Event{}, false
	}
	ev := Event{Caller: deref(e.Caller), PrincipalID: Claim(e, oidClaims...), AppID: Claim(e, "appid"),
		Action: deref(e.OperationName.Value), ResourceID: deref(e.ResourceID), CorrelationID: deref(e.CorrelationID)}
	if e.EventTimestamp != nil {
		ev.Time = *e.EventTimestamp
	}
	return ev, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ListRoleDefinitions reads the role definitions usable in the
// subscription: built-in and custom.
func ListRoleDefinitions(ctx context.Context, src Source) ([]RoleDefinition, error) {
	c, err := armauthorization.NewRoleDefinitionsClient(src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	var out []RoleDefinition
	p := c.NewListPager("/subscriptions/"+src.Subscription, nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Value {
			r := RoleDefinition{ID: deref(d.ID)}
			if pr := d.Properties; pr != nil {
				r.Name = deref(pr.RoleName)
				r.BuiltIn = strings.EqualFold(deref(pr.RoleType), "BuiltInRole")
				for _, perm := range pr.Permissions {
					r.Actions = append(r.Actions, derefAll(perm.Actions)...)
					r.NotActions = append(r.NotActions, derefAll(perm.NotActions)...)
					r.DataActions = append(r.DataActions, derefAll(perm.DataActions)...)
					r.NotDataActions = append(r.NotDataActions, derefAll(perm.NotDataActions)...)
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// ListRoleAssignments reads every role assignment in the subscription
// (at it, its groups and resources, and those inherited from above).
func ListRoleAssignments(ctx context.Context, src Source) ([]RoleAssignment, error) {
	c, err := armauthorization.NewRoleAssignmentsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	var out []RoleAssignment
	p := c.NewListForSubscriptionPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Value {
			r := RoleAssignment{ID: deref(a.ID)}
			if pr := a.Properties; pr != nil {
				r.Scope, r.PrincipalID, r.RoleDefinitionID = deref(pr.Scope), deref(pr.PrincipalID), deref(pr.RoleDefinitionID)
				if pr.PrincipalType != nil {
					r.PrincipalType = string(*pr.PrincipalType)
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// EachActivity pages through the subscription's activity log between
// from and to.
func EachActivity(ctx context.Context, src Source, from, to time.Time, fn func(*armmonitor.EventData)) error {
	c, err := armmonitor.NewActivityLogsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return err
	}
	// Fractions of a second matter: the last events are within the second.
	const layout = "2006-01-02T15:04:05.0000000Z"
	filter := fmt.Sprintf("eventTimestamp ge '%s' and eventTimestamp le '%s'", from.UTC().Format(layout), to.UTC().Format(layout))
	p := c.NewListPager(filter, nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, e := range page.Value {
			if e != nil {
				fn(e)
			}
		}
	}
	return nil
}

// oidClaims are the claim names the caller's object ID comes under.
var oidClaims = []string{"oid", "http://schemas.microsoft.com/identity/claims/objectidentifier"}

// Claim returns the first of names present in an event's claims.
func Claim(e *armmonitor.EventData, names ...string) string {
	for _, n := range names {
		if v := deref(e.Claims[n]); v != "" {
			return v
		}
	}
	return ""
}

// Succeeded reports whether an activity event records an operation that
// was allowed (a failed one was refused: it shows no use of a role).
func Succeeded(e *armmonitor.EventData) bool {
	if e.Status == nil {
		return false
	}
	switch strings.ToLower(deref(e.Status.Value)) {
	case "succeeded", "started", "accepted":
		return true
	}
	return false
}

// OperationOf turns an activity event into an operation of its caller.
func OperationOf(e *armmonitor.EventData) (Operation, bool) {
	if !Succeeded(e) {
		return Operation{}, false
	}
	o := Operation{PrincipalID: Claim(e, oidClaims...), Scope: deref(e.ResourceID)}
	if o.PrincipalID == "" {
		o.PrincipalID = deref(e.Caller)
	}
	if e.Authorization != nil && deref(e.Authorization.Action) != "" {
		o.Action = deref(e.Authorization.Action)
		if s := deref(e.Authorization.Scope); s != "" {
			o.Scope = s
		}
	} else if e.OperationName != nil {
		o.Action = deref(e.OperationName.Value)
	}
	if e.EventTimestamp != nil {
		o.Time = *e.EventTimestamp
	}
	return o, o.Action != "" && o.PrincipalID != ""
}

func derefAll(list []*string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// AsDoc turns an SDK model into its ARM JSON document.
func AsDoc(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// ListResourceDocs lists the subscription's resources; virtual machines
// are read in full for their image reference.
func ListResourceDocs(ctx context.Context, src Source) ([]map[string]any, error) {
	c, err := armresources.NewClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	err = eachResource(ctx, c, func(r *armresources.GenericResourceExpanded) error {
		doc := AsDoc(r)
		if strings.EqualFold(deref(r.Type), "Microsoft.Compute/virtualMachines") {
			full, err := c.GetByID(ctx, deref(r.ID), vmAPIVersion, nil)
			if err != nil {
				return err
			}
			doc = AsDoc(full.GenericResource)
		}
		out = append(out, doc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachResource calls fn with each resource of c's subscription, in the
// order of its list, until fn or a page fails.
func eachResource(ctx context.Context, c *armresources.Client, fn func(*armresources.GenericResourceExpanded) error) error {
	for p := c.NewListPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.Value {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListDeploymentDocs lists the template deployments of the subscription
// and of each of its resource groups.
func ListDeploymentDocs(ctx context.Context, src Source) ([]map[string]any, error) {
	dc, err := armresources.NewDeploymentsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	gc, err := armresources.NewResourceGroupsClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	out, err := appendDocs(ctx, nil, dc.NewListAtSubscriptionScopePager(nil),
		func(r armresources.DeploymentsClientListAtSubscriptionScopeResponse) []*armresources.DeploymentExtended {
			return r.Value
		})
	if err != nil {
		return nil, err
	}
	gp := gc.NewListPager(nil)
	for gp.More() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Value {
			out, err = appendDocs(ctx, out, dc.NewListByResourceGroupPager(deref(g.Name), nil),
				func(r armresources.DeploymentsClientListByResourceGroupResponse) []*armresources.DeploymentExtended {
					return r.Value
				})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// appendDocs appends to docs every value of every page of p (values
// picks them out of a page), each as its ARM document (AsDoc).
func appendDocs[R, T any](ctx context.Context, docs []map[string]any, p *runtime.Pager[R], values func(R) []*T) ([]map[string]any, error) {
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range values(page) {
			docs = append(docs, AsDoc(v))
		}
	}
	return docs, nil
}

// AccessFrom runs the access report on a subscription: its role
// definitions and assignments, its activity log of the window, and data,
// the data-plane operations recorded where the data plane is served (see
// UsageRecorder).
func AccessFrom(ctx context.Context, src Source, now time.Time, window time.Duration, data ...Operation) ([]Finding, error) {
	roles, err := ListRoleDefinitions(ctx, src)
	if err != nil {
		return nil, err
	}
	assignments, err := ListRoleAssignments(ctx, src)
	if err != nil {
		return nil, err
	}
	var ops []Operation
	err = EachActivity(ctx, src, now.Add(-window), now, func(e *armmonitor.EventData) {
		if o, ok := OperationOf(e); ok {
			ops = append(ops, o)
		}
	})
	if err != nil {
		return nil, err
	}
	ops = append(ops, data...)
	return Access(assignments, roles, ops, AccessOptions{Now: now, Window: window}), nil
}

// RogueFrom runs the rogue report on a subscription: its resources,
// template deployments and activity log of the window.
func RogueFrom(ctx context.Context, src Source, now time.Time, window time.Duration, opt RogueOptions) ([]Finding, error) {
	var events []Event
	err := EachActivity(ctx, src, now.Add(-window), now, func(e *armmonitor.EventData) {
		if ev, ok := EventOf(e); ok {
			events = append(events, ev)
		}
	})
	if err != nil {
		return nil, err
	}
	resources, err := ListResourceDocs(ctx, src)
	if err != nil {
		return nil, err
	}
	deployments, err := ListDeploymentDocs(ctx, src)
	if err != nil {
		return nil, err
	}
	return Rogue(resources, events, deployments, opt), nil
}
