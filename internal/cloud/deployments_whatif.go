package cloud

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/template"
)

// serveWhatIf predicts a deployment's changes: each resource of the
// template is Create, Modify (with property-level deltas), NoChange or
// Deploy (its document holds values only the deployment can compute); in
// the resource group, resources the template does not name are Ignore
// (Incremental) or Delete (Complete). The predicted documents include what
// policy's append and modify effects would change. Policy denials and
// missing access fail it as they would fail the deployment.
func (c *Cloud) serveWhatIf(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodPost {
		return nil, methodNotAllowed(call.Method)
	}
	d, err := c.newDeployment(ctx, call)
	if err != nil {
		return nil, err
	}
	if _, err := d.preflight(); err != nil {
		return nil, err
	}
	opts := d.opts
	opts.State = d.state
	res, err := template.Expand(d.tmpl, opts)
	if err != nil {
		return nil, templateError(err)
	}
	idOnly := strings.EqualFold(d.req.ResultFormat, "ResourceIdOnly")
	var changes []any
	named := map[string]bool{}
	for _, r := range res.Resources {
		if r.Nested {
			continue
		}
		named[resKey(r.ID)] = true
		// The predicted document is the template's as policy's append and
		// modify effects would leave it.
		after, err := c.policyDryRun(ctx, call, r)
		if err != nil {
			return nil, err
		}
		after["apiVersion"] = r.APIVersion
		cur, gerr := c.Get(ctx, r.ID)
		var ch map[string]any
		switch {
		case errors.Is(gerr, store.ErrNotFound):
			ch = map[string]any{"resourceId": r.ID, "changeType": "Create", "after": whatIfView(after)}
		case gerr != nil:
			return nil, storeError(gerr)
		default:
			before := whatIfView(cur.Doc)
			before["apiVersion"] = r.APIVersion
			av := whatIfView(after)
			delta := propertyDelta("", before, av)
			kind := "Modify"
			switch {
			case hasDeferred(av):
				kind = "Deploy"
			case len(delta) == 0:
				kind = "NoChange"
			}
			ch = map[string]any{"resourceId": r.ID, "changeType": kind, "before": before, "after": av}
			if kind == "Modify" {
				ch["delta"] = delta
			}
		}
		changes = append(changes, idOnlyView(ch, idOnly))
	}
	for _, id := range res.Existing {
		named[resKey(id)] = true
	}
	if d.opts.Scope.ResourceGroup != "" {
		rest, err := c.unnamedInGroup(ctx, d.scope, named)
		if err != nil {
			return nil, err
		}
		for _, r := range rest {
			kind := "Ignore"
			ns := strings.ToLower(strings.SplitN(r.Type, "/", 2)[0])
			if d.req.Mode == "Complete" && ns != "microsoft.authorization" && ns != "microsoft.resources" {
				kind = "Delete"
			}
			ch := map[string]any{"resourceId": r.ID, "changeType": kind, "before": whatIfView(r.Doc)}
			changes = append(changes, idOnlyView(ch, idOnly))
		}
	}
	sort.SliceStable(changes, func(i, j int) bool {
		return strings.ToLower(changes[i].(map[string]any)["resourceId"].(string)) < strings.ToLower(changes[j].(map[string]any)["resourceId"].(string))
	})
	body := map[string]any{"status": "Succeeded", "properties": map[string]any{"changes": listOrEmpty(changes)}}
	return &Response{Status: http.StatusOK, Body: body}, nil
}

func idOnlyView(ch map[string]any, idOnly bool) map[string]any {
	if idOnly {
		return map[string]any{"resourceId": ch["resourceId"], "changeType": ch["changeType"]}
	}
	return ch
}

// unnamedInGroup lists the group's resources the template does not name.
func (c *Cloud) unnamedInGroup(ctx context.Context, scope string, named map[string]bool) ([]Resource, error) {
	var out []Resource
	after := ""
	for {
		rs, next, err := c.List(ctx, ListQuery{Scope: scope, Limit: store.MaxPageSize, After: after,
			Keep: func(r Resource) bool { return directlyIn(r.ID, scope) && !named[resKey(r.ID)] }})
		if err != nil {
			return nil, storeError(err)
		}
		out = append(out, rs...)
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// whatIfView is a document as what-if compares it: without the values
// Azure leaves out of the comparison (systemData, etag, provisioningState).
func whatIfView(doc map[string]any) map[string]any {
	out := cloneDoc(doc)
	delete(out, "systemData")
	delete(out, "etag")
	if p, ok := out["properties"].(map[string]any); ok {
		delete(p, "provisioningState")
	}
	return armexpr.Normalize(out).(map[string]any)
}

// hasDeferred reports whether a document holds an expression the
// deployment would evaluate (reference, list*).
func hasDeferred(v any) bool {
	switch t := v.(type) {
	case string:
		return armexpr.IsExpression(t)
	case []any:
		for _, e := range t {
			if hasDeferred(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if hasDeferred(e) {
				return true
			}
		}
	}
	return false
}

// propertyDelta lists the property changes from before to after, as
// what-if's WhatIfPropertyChange: Create, Delete, Modify, or Array with
// the changed elements as children.
func propertyDelta(path string, before, after any) []any {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch b := before.(type) {
	case map[string]any:
		a, ok := after.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range b {
			keys[k] = true
		}
		for k := range a {
			keys[k] = true
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		var out []any
		for _, k := range names {
			bv, inB := b[k]
			av, inA := a[k]
			switch {
			case !inB:
				out = append(out, map[string]any{"path": join(k), "propertyChangeType": "Create", "after": av})
			case !inA:
				out = append(out, map[string]any{"path": join(k), "propertyChangeType": "Delete", "before": bv})
			default:
				out = append(out, propertyDelta(join(k), bv, av)...)
			}
		}
		return out
	case []any:
		a, ok := after.([]any)
		if !ok {
			break
		}
		if reflect.DeepEqual(b, a) {
			return nil
		}
		var children []any
		for i := 0; i < max(len(a), len(b)); i++ {
			p := strings.TrimPrefix(path+"["+itoa(i)+"]", ".")
			switch {
			case i >= len(b):
				children = append(children, map[string]any{"path": itoa(i), "propertyChangeType": "Create", "after": a[i]})
			case i >= len(a):
				children = append(children, map[string]any{"path": itoa(i), "propertyChangeType": "Delete", "before": b[i]})
			default:
				if sub := propertyDelta("", b[i], a[i]); len(sub) > 0 {
					_ = p
					children = append(children, map[string]any{"path": itoa(i), "propertyChangeType": "Modify", "before": b[i], "after": a[i], "children": sub})
				}
			}
		}
		return []any{map[string]any{"path": path, "propertyChangeType": "Array", "before": b, "after": a, "children": children}}
	}
	if armexpr.Equal(before, after) {
		return nil
	}
	return []any{map[string]any{"path": path, "propertyChangeType": "Modify", "before": before, "after": after}}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
