package logs

import (
	"context"
	"fmt"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
)

// The actions the data-plane APIs check, as Azure's built-in roles name
// them: Monitoring Metrics Publisher grants the ingestion data action on a
// data collection rule, Log Analytics Reader the query action on a
// workspace.
const (
	ActionIngest = "Microsoft.Insights/Telemetry/Write"
	ActionQuery  = "Microsoft.OperationalInsights/workspaces/query/read"
)

// Authorizer decides whether principal p may perform action (a data-plane
// action when dataAction is set) at scope; a non-nil error refuses.
type Authorizer func(ctx context.Context, p identity.Principal, action string, dataAction bool, scope string) error

// EngineAuthorizer checks access with rbac's engine; engine is called on
// each check, so the engine may be swapped as role assignments change.
func EngineAuthorizer(engine func() *rbac.Engine) Authorizer {
	return func(ctx context.Context, p identity.Principal, action string, dataAction bool, scope string) error {
		d, err := engine().Check(ctx, rbac.Request{PrincipalID: p.ObjectID, Groups: p.Groups, Action: action,
			DataAction: dataAction, Scope: scope})
		if err != nil {
			return err
		}
		if !d.Allowed {
			return fmt.Errorf("the client '%s' does not have authorization to perform action '%s' over scope '%s'",
				p.ObjectID, action, scope)
		}
		return nil
	}
}

func (s *Service) authorize(ctx context.Context, action string, dataAction bool, scope string) error {
	if s.opts.Authorize == nil {
		return nil
	}
	p, _ := identity.PrincipalFrom(ctx)
	return s.opts.Authorize(ctx, p, action, dataAction, scope)
}
