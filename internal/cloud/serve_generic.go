package cloud

import "context"

// ServeGeneric serves a call as the generic resource route does (stored
// documents with PUT, PATCH, GET, HEAD, DELETE and lists), for providers
// that change only part of a type's behaviour, such as the status codes of
// a create.
func (c *Cloud) ServeGeneric(ctx context.Context, call *Call) (*Response, error) {
	return c.serveGeneric(ctx, call)
}
