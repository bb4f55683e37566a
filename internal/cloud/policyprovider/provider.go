package policyprovider

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// The resource types this package serves.
const (
	TypeDefinition    = "Microsoft.Authorization/policyDefinitions"
	TypeSetDefinition = "Microsoft.Authorization/policySetDefinitions"
	TypeAssignment    = "Microsoft.Authorization/policyAssignments"
	TypeExemption     = "Microsoft.Authorization/policyExemptions"
)

// Options configure the provider.
type Options struct {
	// BuiltInDir, when set, is a directory of built-in definitions in
	// Azure/azure-policy's layout (policyDefinitions/ and
	// policySetDefinitions/ below it), served at the tenant level. It is
	// read on first use.
	BuiltInDir string
	// Aliases resolve alias fields; nil uses the documented default rule.
	Aliases *policy.AliasTable
	// NewID makes principal IDs of system-assigned identities (default
	// uuid.NewString).
	NewID func() string
}

// Provider serves the policy types and enforces assignments.
type Provider struct {
	c        *cloud.Cloud
	opts     Options
	builtins builtinSet

	gen   atomic.Uint64
	mu    sync.Mutex
	cache *compiled
	// shared counts policy writes on every replica (nil until Register):
	// a write committed elsewhere invalidates the cache here too.
	shared *cloud.Generation
}

// New returns the provider over c.
func New(c *cloud.Cloud, opts Options) *Provider {
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	p := &Provider{c: c, opts: opts}
	p.builtins.dir = opts.BuiltInDir
	return p
}

// Register creates the provider, registers its routes, installs it as the
// Cloud's policy hook and keeps its cache in step with deletes that
// cascade from a scope (a resource group's assignments).
func Register(c *cloud.Cloud, opts Options) (*Provider, error) {
	p := New(c, opts)
	if err := c.Register(p); err != nil {
		return nil, err
	}
	for _, t := range []string{TypeDefinition, TypeSetDefinition, TypeAssignment, TypeExemption} {
		c.OnDelete(t, func(context.Context, string, map[string]any) { p.invalidate() })
	}
	p.shared = c.WatchTypes("policy", TypeDefinition, TypeSetDefinition, TypeAssignment, TypeExemption)
	c.SetPolicyHook(p)
	return p, nil
}

// Routes implements cloud.Provider.
func (p *Provider) Routes() []cloud.Route {
	return []cloud.Route{
		{Type: TypeDefinition, SelfAuthorize: true, Handler: p.definitions(kindDefinition).serve},
		{Type: TypeSetDefinition, SelfAuthorize: true, Handler: p.definitions(kindSet).serve},
		{Type: TypeAssignment, Handler: p.serveScoped(scopedType{typ: TypeAssignment, field: "policydefinitionid",
			path: []string{"properties", "policyDefinitionId"}, notFound: "PolicyAssignmentNotFound", noun: "policy assignment", write: p.writeAssignment, alwaysCreated: true})},
		{Type: TypeExemption, Handler: p.serveScoped(scopedType{typ: TypeExemption, field: "policyassignmentid",
			path: []string{"properties", "policyAssignmentId"}, notFound: "PolicyExemptionNotFound", noun: "policy exemption", write: p.writeExemption})},
	}
}

// invalidate drops the compiled assignments after a policy write.
func (p *Provider) invalidate() { p.gen.Add(1) }

// get reads a stored document; missing is (nil, nil).
func (p *Provider) get(ctx context.Context, id string) (*cloud.Resource, error) {
	r, err := p.c.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// scopeOf normalizes a target's scope: the tenant root is "/".
func scopeOf(s string) string {
	if s == "" {
		return "/"
	}
	return s
}

// scopeFromID is the scope of an extension resource ID
// ({scope}/providers/Microsoft.Authorization/{type}/{name}).
func scopeFromID(id string) string {
	i := strings.LastIndex(strings.ToLower(id), "/providers/microsoft.authorization/")
	if i <= 0 {
		return "/"
	}
	return id[:i]
}

// scopeKind is the level of a scope.
func scopeKind(scope string) arm.ScopeKind {
	r, err := arm.ParseResourceID(scopeOf(scope))
	if err != nil {
		return arm.ScopeRoot
	}
	return r.Kind()
}

// requireScope checks that a scope exists.
func (p *Provider) requireScope(ctx context.Context, scope string) error {
	r, err := arm.ParseResourceID(scopeOf(scope))
	if err != nil {
		return arm.BadRequest("InvalidScope", "The scope '%s' is not valid.", scope)
	}
	if r.Kind() == arm.ScopeRoot {
		return nil
	}
	return p.c.RequireScope(ctx, r)
}

func methodNotAllowed(m string) error {
	return arm.Errorf(405, "MethodNotAllowed", "The requested resource does not support http method '%s'.", m)
}

func stringAt(doc map[string]any, path ...string) string {
	var cur any = doc
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// propsOf returns the properties object of a body, creating it.
func propsOf(doc map[string]any) map[string]any {
	m, ok := doc["properties"].(map[string]any)
	if !ok {
		m = map[string]any{}
		doc["properties"] = m
	}
	return m
}

func timestamp(c *cloud.Cloud) string { return c.Now().UTC().Format("2006-01-02T15:04:05.0000000Z") }
