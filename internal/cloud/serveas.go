package cloud

import (
	"context"

	"github.com/steward-gov/steward/internal/identity"
)

// ServeAs serves a request through the whole pipeline (routing,
// api-version, RBAC, policy, the type's handler) as principal p, on behalf
// of call (its host and correlation id), and returns the status and body.
// It is for resource providers that act with an identity of their own, as
// Azure's do: Microsoft.Solutions deploys a managed application's template
// into the managed resource group as itself, not as the customer. Like the
// deployment engine's writes, the request is not throttled again.
func (c *Cloud) ServeAs(ctx context.Context, call *Call, p identity.Principal, method, path, apiVersion string, body any) (int, []byte) {
	return c.subRequest(identity.WithPrincipal(ctx, p), call, method, path, apiVersion, body)
}
