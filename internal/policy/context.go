package policy

import (
	"fmt"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/armexpr"
)

// EvalContext is what the scope functions of an evaluation return when
// the caller has no live estate to ask: the resource group and
// subscription of the resource, the request context and policy().
type EvalContext struct {
	ResourceGroup  map[string]any `json:"resourceGroup,omitempty"`
	Subscription   map[string]any `json:"subscription,omitempty"`
	RequestContext map[string]any `json:"requestContext,omitempty"`
	Policy         map[string]any `json:"policy,omitempty"`
}

// ContextForResource derives resourceGroup() and subscription() from a
// resource ID ({name, id} and {subscriptionId, id}); properties an ID does
// not carry (location, tags, displayName) are absent. Without an ID, or
// with one that has no subscription, the maps are nil.
func ContextForResource(res *Resource) EvalContext {
	var c EvalContext
	id, err := arm.ParseResourceID(res.id)
	if res.id == "" || err != nil || id.SubscriptionID == "" {
		return c
	}
	sub := "/subscriptions/" + id.SubscriptionID
	c.Subscription = map[string]any{"subscriptionId": id.SubscriptionID, "id": sub}
	if id.ResourceGroup != "" {
		c.ResourceGroup = map[string]any{"name": id.ResourceGroup, "id": sub + "/resourceGroups/" + id.ResourceGroup}
	}
	return c
}

// ParseEvalContext reads an evaluation context file: a JSON object with
// any of resourceGroup, subscription, requestContext and policy.
func ParseEvalContext(data []byte) (EvalContext, error) {
	var c EvalContext
	doc, err := decodeJSON(data)
	if err != nil {
		return c, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return c, fmt.Errorf("a context must be a JSON object, got %s", armexpr.TypeName(doc))
	}
	for key, dst := range map[string]*map[string]any{"resourceGroup": &c.ResourceGroup, "subscription": &c.Subscription,
		"requestContext": &c.RequestContext, "policy": &c.Policy} {
		if v, ok := armexpr.Lookup(m, key); ok {
			if *dst, ok = v.(map[string]any); !ok {
				return c, fmt.Errorf("context %s must be an object, got %s", key, armexpr.TypeName(v))
			}
		}
	}
	return c, nil
}

// Apply sets the context's non-nil parts on evaluation options.
func (c EvalContext) Apply(opts *EvalOptions) {
	if c.ResourceGroup != nil {
		opts.ResourceGroup = c.ResourceGroup
	}
	if c.Subscription != nil {
		opts.Subscription = c.Subscription
	}
	if c.RequestContext != nil {
		opts.RequestContext = c.RequestContext
	}
	if c.Policy != nil {
		opts.Policy = c.Policy
	}
}
