package vault

import (
	"context"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
)

// RBACAuthorizer authorizes data actions with an rbac engine: the
// principal (and its groups from the token) must hold a role whose
// dataActions allow the action at the object's scope or above, and no deny
// assignment may block it. Deny by default: no assignment, no access.
// engine returns the current engine (the embedded ARM swaps it when role
// assignments change).
func RBACAuthorizer(engine func() *rbac.Engine) Authorizer {
	return AuthorizerFunc(func(ctx context.Context, p identity.Principal, action, scope string) (bool, error) {
		d, err := engine().Check(ctx, rbac.Request{PrincipalID: p.ObjectID, Groups: p.Groups, Action: action, DataAction: true, Scope: scope})
		if err != nil {
			return false, badParameter("The request cannot be authorized: %v", err)
		}
		return d.Allowed, nil
	})
}
