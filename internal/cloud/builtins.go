package cloud

// registerBuiltins registers the routes of Microsoft.Resources and
// Microsoft.Management, and the generic resource route.
func (c *Cloud) registerBuiltins() {
	resources := ResourcesAPIVersions
	for _, rt := range []Route{
		{Type: TypeSubscription, APIVersions: SubscriptionsAPIVersions, SelfAuthorize: true, Handler: c.serveSubscription},
		{Type: TypeResourceGroup, APIVersions: resources, SelfAuthorize: true, Handler: c.serveResourceGroup},
		{Type: TypeResources, APIVersions: resources, SelfAuthorize: true, Handler: c.serveResourceList},
		{Type: TypeOperationResult, APIVersions: resources, SelfAuthorize: true, Handler: c.serveOperationResult},
		{Type: TypeTags, APIVersions: resources, Handler: c.serveTags},
		{Type: TypeManagementGroup, APIVersions: ManagementAPIVersions, SelfAuthorize: true, Handler: c.serveManagementGroup},
		{Type: TypeMGSubscription, APIVersions: ManagementAPIVersions, SelfAuthorize: true, Handler: c.serveMGSubscription},
		{Type: TypeProvider, Handler: c.serveProvider},
		{Type: TypeProvider, Action: "register", Handler: c.serveProvider},
		{Type: TypeProvider, Action: "unregister", Handler: c.serveProvider},
		{Type: TypeActivityLog, APIVersions: ActivityAPIVersions, SelfAuthorize: true, Handler: c.serveActivityLog},
		{Type: TypeLock, APIVersions: LocksAPIVersions, Handler: c.serveLock},
	} {
		if err := c.routes.add(rt); err != nil {
			panic(err)
		}
	}
	for _, rt := range c.deploymentRoutes() {
		if err := c.routes.add(rt); err != nil {
			panic(err) // the built-in table is static; a clash is a programming error
		}
	}
	c.registerTemplateSpecs()
	c.registerDiagnosticSettings()
	c.generic = &Route{Type: "generic", Handler: c.serveGeneric}
}
