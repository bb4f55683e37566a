package policyprovider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// lookup reads a definition or set document by ID: a built-in at the
// tenant level, a stored one elsewhere.
func (p *Provider) lookup(ctx context.Context, k kind, id string) (map[string]any, error) {
	memo, _ := ctx.Value(memoKey{}).(map[string]map[string]any)
	key := k.typ() + "|" + strings.ToLower(id)
	if doc, ok := memo[key]; ok {
		return doc, nil
	}
	doc, err := p.lookupStored(ctx, k, id)
	if err == nil && memo != nil {
		memo[key] = doc
	}
	return doc, err
}

// memoKey keys the per-rebuild memo of looked-up documents in a context:
// a rebuild compiles every assignment, and many share definitions.
type memoKey struct{}

// withMemo returns a context whose lookups are memoized. The memo is not
// safe for concurrent use: one goroutine (the rebuild) owns it.
func withMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, map[string]map[string]any{})
}

func (p *Provider) lookupStored(ctx context.Context, k kind, id string) (map[string]any, error) {
	r, err := arm.ParseResourceID(id)
	if err != nil || len(r.Names) == 0 || !strings.EqualFold(r.ResourceType(), k.typ()) {
		return nil, k.notFound(id)
	}
	if r.Kind() == arm.ScopeRoot || (r.SubscriptionID == "" && r.ManagementGroup == "" && r.Parent == nil) {
		if doc, ok := p.builtins.get(k, r.Name()); ok {
			return doc, nil
		}
		return nil, k.notFound(r.Name())
	}
	res, err := p.c.Get(ctx, r.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, k.notFound(r.Name())
	}
	if err != nil {
		return nil, err
	}
	return res.Doc, nil
}

// resolveDefinition parses the definition with ID id.
func (p *Provider) resolveDefinition(ctx context.Context, id string) (*policy.Definition, error) {
	doc, err := p.lookup(ctx, kindDefinition, id)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(doc)
	return policy.ParseDefinition(b)
}

// resolver is the engine's view of definitions and sets.
func (p *Provider) resolver(ctx context.Context) policy.DefinitionResolver {
	return func(id string) (*policy.Definition, error) { return p.resolveDefinition(ctx, id) }
}

func (p *Provider) resolvers(ctx context.Context) policy.Resolvers {
	return policy.Resolvers{Definition: p.resolver(ctx), Set: func(id string) (*policy.SetDefinition, error) {
		doc, err := p.lookup(ctx, kindSet, id)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(doc)
		return policy.ParseSetDefinition(b)
	}}
}

// definitionError maps the policy engine's errors to ARM's 400s:
// InvalidPolicyRule for the rule, InvalidPolicyParameters for parameter
// declarations and values, MissingPolicyParameter for a required value
// not given, InvalidRequestContent for the rest of the document.
func definitionError(err error) error {
	var ae *arm.Error
	if errors.As(err, &ae) {
		return ae
	}
	var pe *policy.ParseError
	var ce *policy.CompileError
	var pa *policy.ParameterError
	switch {
	case errors.As(err, &pa):
		if strings.Contains(pa.Message, "no value was given") {
			return arm.BadRequest("MissingPolicyParameter", "The policy parameter '%s' is missing.", pa.Name)
		}
		return arm.BadRequest("InvalidPolicyParameters", "The policy parameter '%s' is invalid: %s.", pa.Name, pa.Message)
	case errors.As(err, &pe):
		return arm.BadRequest(codeForPath(pe.Path), "The policy is invalid at '%s': %s.", pe.Path, pe.Message)
	case errors.As(err, &ce):
		code := ce.Code // Azure's own code where the engine knows it (rule limits)
		if code == "" {
			code = codeForPath(ce.Path)
		}
		return arm.BadRequest(code, "The policy is invalid at '%s': %s.", ce.Path, ce.Message)
	}
	return arm.BadRequest("InvalidPolicyDefinition", "The policy is invalid: %s.", err.Error())
}

func codeForPath(path string) string {
	l := strings.ToLower(path)
	switch {
	case strings.Contains(l, "policyrule"):
		return "InvalidPolicyRule"
	case strings.Contains(l, "parameters"):
		return "InvalidPolicyParameters"
	case strings.Contains(l, "policydefinitions"):
		return "InvalidPolicySetDefinition"
	case strings.Contains(l, "mode"):
		return "InvalidPolicyMode"
	}
	return "InvalidRequestContent"
}

// listAll reads every stored document of a type that keep selects.
func (p *Provider) listAll(ctx context.Context, typ string, keep func(cloud.Resource) bool) ([]cloud.Resource, error) {
	var out []cloud.Resource
	after := ""
	for {
		page, next, err := p.c.List(ctx, cloud.ListQuery{Type: typ, Keep: keep, Limit: cloud.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// outOfScope is ARM's refusal of a definition that is not visible from the
// assignment's scope.
func outOfScope(name string) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, "InvalidCreatePolicyAssignmentRequest",
		"The policy definition specified in policy assignment '%s' is out of scope. Policy definitions should be specified only at or above the policy assignment scope.", name)
}
