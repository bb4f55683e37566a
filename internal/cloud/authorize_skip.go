package cloud

// SkipAuthorization records that a self-authorizing handler decided the
// request needs no access check: reads every authenticated caller may make,
// such as its own effective permissions or the built-in role and policy
// definitions. It is the explicit alternative to Authorize, so that a
// handler that forgot both is still caught.
func (c *Call) SkipAuthorization() { c.authorized = true }
