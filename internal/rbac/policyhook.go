package rbac

import (
	"context"
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// RoleAssignmentPolicy is consulted for a role-assignment write that RBAC
// allows, as ARM consults Azure Policy after authorization. doc is the
// Microsoft.Authorization/roleAssignments resource being created (see
// RoleAssignmentDocument). The policy engine lives in another package;
// this interface lets the two meet without rbac importing it.
type RoleAssignmentPolicy interface {
	EvaluateRoleAssignment(ctx context.Context, scope string, doc map[string]any) (denied bool, reason string, err error)
}

// RoleAssignmentPolicyFunc adapts a function to RoleAssignmentPolicy.
type RoleAssignmentPolicyFunc func(ctx context.Context, scope string, doc map[string]any) (bool, string, error)

// EvaluateRoleAssignment implements RoleAssignmentPolicy.
func (f RoleAssignmentPolicyFunc) EvaluateRoleAssignment(ctx context.Context, scope string, doc map[string]any) (bool, string, error) {
	return f(ctx, scope, doc)
}

// RoleAssignmentDocument returns the resource document of a role assignment
// of role (a GUID) to a principal at scope, as ARM presents it to Azure
// Policy: type, name, id and properties.roleDefinitionId (subscription-
// scoped when the scope is in a subscription, which is what
// split(...,'roleDefinitions/')[1] policies expect), principalId,
// principalType and scope. The name is a deterministic GUID of the three
// inputs, so the same grant always yields the same document.
func RoleAssignmentDocument(scope, role, principalID, principalType string) map[string]any {
	g, ok := canonicalGUID(role)
	if !ok {
		g = role
	}
	roleDefID := "/providers/Microsoft.Authorization/roleDefinitions/" + g
	if id, err := arm.ParseResourceID(scope); err == nil && id.SubscriptionID != "" {
		roleDefID = "/subscriptions/" + id.SubscriptionID + roleDefID
	}
	name := deterministicGUID(strings.ToLower(scope) + "|" + g + "|" + principalKey(principalID))
	base := strings.TrimRight(scope, "/")
	return map[string]any{
		"type": "Microsoft.Authorization/roleAssignments",
		"name": name,
		"id":   base + "/providers/Microsoft.Authorization/roleAssignments/" + name,
		"properties": map[string]any{
			"roleDefinitionId": roleDefID,
			"principalId":      principalID,
			"principalType":    principalType,
			"scope":            scope,
		},
	}
}

// deterministicGUID derives a GUID from a string (SHA-1, version and variant
// bits set as for a name-based UUID), for stable names without randomness.
func deterministicGUID(s string) string {
	h := sha1.Sum([]byte("steward-rbac:" + s))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
