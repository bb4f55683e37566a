package template

import (
	"fmt"
	"strings"
)

// reference is reference(resourceNameOrID, [apiVersion], ['Full']).
func (x *expander) reference(args []any, f *frame) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, templateErr("The template function 'reference' expects one to three arguments.")
	}
	target, ok := args[0].(string)
	if !ok || target == "" {
		return nil, templateErr("The template function 'reference' expects a resource name or ID as its first argument.")
	}
	apiVersion, full := "", false
	for _, a := range args[1:] {
		s, _ := a.(string)
		if strings.EqualFold(s, "full") {
			full = true
		} else {
			apiVersion = s
		}
	}
	doc, err := x.referenced(target, apiVersion, f)
	if err != nil {
		return nil, err
	}
	if full {
		return doc, nil
	}
	if p, ok := keyFold(doc, "properties"); ok && p != nil {
		return p, nil
	}
	return map[string]any{}, nil
}

func (x *expander) referenced(target, apiVersion string, f *frame) (map[string]any, error) {
	ds, found := x.findReferenced(target)
	if found {
		if len(ds) != 1 {
			return nil, templateErr("The reference to '%s' is ambiguous: it names %d resources (a copy loop needs an index).", target, len(ds))
		}
		d := ds[0]
		if d.skip {
			return nil, templateErr("The resource '%s' is not defined in the template: its condition is false. Please see https://aka.ms/arm-template/#resources for usage details.", target)
		}
		if f != nil && f.self == d {
			return nil, templateErr("Circular dependency detected on resource: '%s'.", d.id)
		}
		if d.existing {
			return x.readState(d.id, orStr(apiVersion, d.apiVersion))
		}
		if err := x.owner(d).realize(d); err != nil {
			return nil, err
		}
		return d.stored, nil
	}
	if !strings.HasPrefix(target, "/") {
		return nil, templateErr("The template resource '%s' is not found. Please see https://aka.ms/arm-template/#resources for usage details.", target)
	}
	return x.readState(target, apiVersion)
}

// owner is the expander a declaration belongs to (its own, or a parent's
// for an outer-scope nested template).
func (x *expander) owner(d *decl) *expander {
	for e := x; e != nil; e = e.parent {
		for _, c := range e.decls {
			if c == d {
				return e
			}
		}
		if !e.outer {
			break
		}
	}
	return x
}

func (x *expander) findReferenced(target string) ([]*decl, bool) {
	k := lower(target)
	if x.symbolic() {
		if ds, ok := x.bySym[k]; ok {
			return ds, true
		}
	}
	if d, ok := x.byID[k]; ok {
		return []*decl{d}, true
	}
	if !strings.HasPrefix(k, "/") {
		if ds, ok := x.byName[k]; ok {
			return ds, true
		}
	}
	if x.outer {
		return x.parent.findReferenced(target)
	}
	return nil, false
}

// readState reads a resource the template does not deploy.
func (x *expander) readState(id, apiVersion string) (map[string]any, error) {
	if x.opts.State == nil {
		return nil, fmt.Errorf("reference('%s'): %w", id, errDeferred)
	}
	doc, found, err := x.opts.State(id, apiVersion)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &Error{Code: "ResourceNotFound", Message: fmt.Sprintf("The Resource '%s' was not found.", id)}
	}
	return doc, nil
}

// list is a list* function (listKeys, listSecrets, ...).
func (x *expander) list(name string, args []any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, templateErr("The template function '%s' expects a resource ID, an API version and an optional body.", name)
	}
	id, ok := args[0].(string)
	if !ok {
		return nil, templateErr("The template function '%s' expects a resource ID.", name)
	}
	apiVersion := ""
	if len(args) > 1 {
		apiVersion, _ = args[1].(string)
	}
	var body any
	if len(args) > 2 {
		body = args[2]
	}
	if ds, ok := x.findReferenced(id); ok && len(ds) == 1 && !ds[0].existing && !ds[0].skip {
		if err := x.owner(ds[0]).realize(ds[0]); err != nil {
			return nil, err
		}
		id = ds[0].id
	}
	if x.opts.List == nil {
		return nil, fmt.Errorf("%s('%s'): %w", name, id, errDeferred)
	}
	return x.opts.List(id, apiVersion, name, body)
}
