package template

import (
	"strings"
)

// nestedTarget reads where a nested deployment deploys: its
// subscriptionId and resourceGroup (or the parent's scope).
func (x *expander) nestedTarget(d *decl, f *frame) error {
	t := x.scope
	if v, ok := keyFold(d.raw, "subscriptionId"); ok {
		s, err := x.strict(v, f, d.path+".subscriptionId")
		if err != nil {
			return err
		}
		if str, _ := s.(string); str != "" && !strings.EqualFold(str, t.SubscriptionID) {
			t.SubscriptionID, t.ResourceGroup, t.ResourceGroupTags = str, "", nil
		}
	}
	if v, ok := keyFold(d.raw, "resourceGroup"); ok {
		s, err := x.strict(v, f, d.path+".resourceGroup")
		if err != nil {
			return err
		}
		if str, _ := s.(string); str != "" && !strings.EqualFold(str, t.ResourceGroup) {
			if t.SubscriptionID == "" {
				return x.at(d.path, templateErr("A nested deployment can target resource group '%s' only within a subscription.", str))
			}
			t.ResourceGroup, t.ResourceGroupTags = str, nil
		}
	}
	if v, ok := keyFold(d.raw, "location"); ok && t.ResourceGroup == "" {
		if s, err := x.strict(v, f, d.path+".location"); err == nil {
			if str, ok := s.(string); ok {
				t.Location = str
			}
		}
	}
	d.target = t
	return nil
}

// expandNested expands a nested deployment's template and returns its
// outputs. Its resources are written before the deployment resource.
func (x *expander) expandNested(d *decl, body map[string]any) (map[string]any, error) {
	props, _ := keyFold(body, "properties")
	pm, _ := props.(map[string]any)
	if mode := stringFold(pm, "mode"); mode != "" && !strings.EqualFold(mode, "Incremental") && !strings.EqualFold(mode, "Complete") {
		return nil, x.at(d.path, templateErr("The deployment mode '%s' is not valid.", mode))
	}
	child := &expander{opts: x.opts, shared: x.shared, scope: d.target, deploymentName: d.name, parent: x}
	child.outer = !x.innerScope(pm)
	tv, inline := keyFold(pm, "template")
	switch {
	case inline:
		tm, ok := tv.(map[string]any)
		if !ok {
			return nil, x.at(d.path, templateErr("The nested deployment '%s' has a template that is not an object.", d.name))
		}
		child.t = &Template{Doc: tm}
		child.path = x.fullPath(d.path + ".properties.template")
	default:
		link, _ := keyFold(pm, "templateLink")
		lm, _ := link.(map[string]any)
		rel := stringFold(lm, "relativePath")
		switch {
		case rel != "":
			if x.opts.Link == nil {
				return nil, x.at(d.path, templateErr("The nested deployment '%s' links '%s' by relativePath, which needs the template to be deployed from a file or a template spec.", d.name, rel))
			}
			t, err := x.opts.Link(x.file(), rel)
			if err != nil {
				return nil, x.at(d.path, templateErr("The linked template '%s' of deployment '%s' cannot be read: %v", rel, d.name, err))
			}
			child.t = t
			// A linked template is evaluated in its own scope whatever
			// expressionEvaluationOptions says (learn.microsoft.com,
			// "ARM template functions in deployment scopes").
			child.outer = false
		case stringFold(lm, "uri") != "" || stringFold(lm, "id") != "":
			return nil, x.at(d.path, templateErr("The nested deployment '%s' links its template by uri or template spec id; Steward reaches no external URI and has no template specs. Inline the template or use relativePath.", d.name))
		default:
			return nil, x.at(d.path, templateErr("The nested deployment '%s' has neither 'template' nor 'templateLink'.", d.name))
		}
	}
	if err := child.checkSchema(); err != nil {
		return nil, x.at(d.path, err)
	}
	if child.outer {
		if ps, ok := keyFold(child.t.Doc, "parameters"); ok {
			if m, _ := ps.(map[string]any); len(m) > 0 {
				return nil, x.at(d.path, templateErr("The nested template of deployment '%s' declares parameters, which needs \"expressionEvaluationOptions\": {\"scope\": \"inner\"}.", d.name))
			}
		}
		child.params = map[string]*paramState{}
	} else {
		pv, _ := keyFold(pm, "parameters")
		given, _ := pv.(map[string]any)
		if err := child.declareParameters(given); err != nil {
			return nil, err
		}
	}
	if err := child.run(); err != nil {
		return nil, err
	}
	return child.outputs, nil
}
