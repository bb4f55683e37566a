package template

import (
	"fmt"
	"sort"
	"strings"
)

// decl is one declared resource instance (a copy loop gives one per
// index) before and after it is realized.
type decl struct {
	raw        map[string]any
	path       string
	sym        string
	loop       string
	idx        int
	f          *frame
	typ, name  string
	names      []string
	apiVersion string
	id         string
	rel        string
	existing   bool
	skip       bool
	deps       []string
	parent     *decl
	target     Scope // a nested deployment's target scope
	nested     bool

	state  int // 0 declared, 1 realizing, 2 done
	res    *Resource
	stored map[string]any
}

// maxTemplateResources is Azure's limit on one template's resources,
// copy loops included.
const maxTemplateResources = 800

// metaKeys are the keys of a resource declaration that are template
// syntax, not part of the document sent to the resource provider.
var metaKeys = map[string]bool{
	"condition": true, "copy": true, "dependson": true, "apiversion": true, "comments": true, "existing": true,
	"scope": true, "resources": true, "type": true, "name": true, "import": true, "metadata": true, "asserts": true,
}

func (x *expander) declareResources() error {
	x.bySym, x.byLoop = map[string][]*decl{}, map[string][]*decl{}
	x.byID, x.byRel, x.byName = map[string]*decl{}, map[string]*decl{}, map[string][]*decl{}
	raw, ok := keyFold(x.t.Doc, "resources")
	if !ok {
		return nil
	}
	switch rs := raw.(type) {
	case []any:
		if x.symbolic() {
			return templateErr("A languageVersion 2.0 template declares 'resources' as an object keyed by symbolic names.")
		}
		for i, r := range rs {
			m, ok := r.(map[string]any)
			path := fmt.Sprintf("resources[%d]", i)
			if !ok {
				return x.at(path, templateErr("The template resource at '%s' must be an object.", path))
			}
			if err := x.declare(m, path, "", nil, &frame{}); err != nil {
				return err
			}
		}
	case map[string]any:
		if !x.symbolic() {
			return templateErr("The template's 'resources' is an object, which needs \"languageVersion\": \"2.0\".")
		}
		syms := make([]string, 0, len(rs))
		for k := range rs {
			syms = append(syms, k)
		}
		// Declaration order is the file's order where it is known.
		sort.SliceStable(syms, func(i, j int) bool {
			pi, pj := x.pos("resources."+syms[i]), x.pos("resources."+syms[j])
			if pi.Line != pj.Line {
				return pi.Line < pj.Line
			}
			return syms[i] < syms[j]
		})
		for _, s := range syms {
			m, ok := rs[s].(map[string]any)
			if !ok {
				return x.at("resources."+s, templateErr("The template resource '%s' must be an object.", s))
			}
			if err := x.declare(m, "resources."+s, s, nil, &frame{}); err != nil {
				return err
			}
		}
	default:
		return templateErr("The template's 'resources' must be an array.")
	}
	if len(x.decls) > maxTemplateResources {
		return templateErr("The number of template resources limit exceeded. Limit: '%d' and actual: '%d'. Please see https://aka.ms/arm-template-best-practices for usage details.", maxTemplateResources, len(x.decls))
	}
	return nil
}

// declare declares a resource, once per copy index.
func (x *expander) declare(m map[string]any, path, sym string, parent *decl, f *frame) error {
	cp, hasCopy := keyFold(m, "copy")
	if !hasCopy {
		return x.declareOne(m, path, sym, parent, f, "", 0)
	}
	cm, ok := cp.(map[string]any)
	if !ok {
		return x.at(path+".copy", templateErr("The resource's 'copy' must be an object with a name and a count."))
	}
	name := stringFold(cm, "name")
	if name == "" {
		if sym == "" {
			return x.at(path+".copy", templateErr("The resource's copy loop needs a name."))
		}
		name = sym
	}
	if mode := lower(stringFold(cm, "mode")); mode != "" && mode != "serial" && mode != "parallel" {
		return x.at(path+".copy", templateErr("The copy mode '%s' is not valid: it must be 'serial' or 'parallel'.", stringFold(cm, "mode")))
	}
	if bs, ok := keyFold(cm, "batchSize"); ok {
		if n, ok := bs.(int64); !ok || n < 1 {
			return x.at(path+".copy", templateErr("The copy batchSize must be a positive integer."))
		}
	}
	n, err := x.count(mustFold(cm, "count"), f, path+".copy.count")
	if err != nil {
		return err
	}
	if _, dup := x.byLoop[lower(name)]; dup {
		return x.at(path+".copy", templateErr("The copy loop name '%s' is used more than once.", name))
	}
	x.byLoop[lower(name)] = []*decl{}
	for i := 0; i < n; i++ {
		g := *f
		g.loop, g.idx = name, i
		if err := x.declareOne(m, path, sym, parent, &g, name, i); err != nil {
			return err
		}
	}
	return nil
}

func (x *expander) declareOne(m map[string]any, path, sym string, parent *decl, f *frame, loop string, idx int) error {
	x.shared.declared++
	if x.shared.declared > MaxResources {
		return templateErr("The expansion produces more than %d resources.", MaxResources)
	}
	d := &decl{raw: m, path: path, sym: sym, loop: loop, idx: idx, f: f, parent: parent, target: x.scope}
	if c, ok := keyFold(m, "condition"); ok {
		cv, err := x.strict(c, f, path+".condition")
		if err != nil {
			return err
		}
		b, ok := cv.(bool)
		if !ok {
			return x.at(path+".condition", templateErr("The resource condition must be a Boolean, got %v.", cv))
		}
		d.skip = !b
	}
	if parent != nil && parent.skip {
		d.skip = true
	}
	tv, err := x.strict(mustFold(m, "type"), f, path+".type")
	if err != nil {
		return err
	}
	typ, _ := tv.(string)
	nv, err := x.strict(mustFold(m, "name"), f, path+".name")
	if err != nil {
		return err
	}
	name, _ := nv.(string)
	if typ == "" || name == "" {
		return x.at(path, templateErr("The template resource at '%s' needs a type and a name.", path))
	}
	if parent != nil {
		if !strings.Contains(typ, "/") {
			typ = parent.typ + "/" + typ
		}
		if strings.Count(name, "/") < len(parent.names) {
			name = parent.name + "/" + name
		}
	}
	d.typ, d.name, d.names = typ, name, strings.Split(name, "/")
	av, err := x.strict(mustFold(m, "apiVersion"), f, path+".apiVersion")
	if err != nil {
		return err
	}
	d.apiVersion, _ = av.(string)
	if d.apiVersion == "" {
		return x.at(path, templateErr("The template resource '%s' of type '%s' has no apiVersion. Please see https://aka.ms/arm-template/#resources for usage details.", name, typ))
	}
	if e, ok := keyFold(m, "existing"); ok {
		d.existing, _ = e.(bool)
	}
	d.nested = strings.EqualFold(typ, "Microsoft.Resources/deployments")
	scopeID := x.scope.ID()
	if d.nested {
		if err := x.nestedTarget(d, f); err != nil {
			return err
		}
		scopeID = d.target.ID()
	}
	if sc, ok := keyFold(m, "scope"); ok {
		sv, err := x.strict(sc, f, path+".scope")
		if err != nil {
			return err
		}
		s, _ := sv.(string)
		switch {
		case x.symbolic() && x.bySym[lower(s)] != nil && len(x.bySym[lower(s)]) == 1:
			scopeID = x.bySym[lower(s)][0].id
		case strings.HasPrefix(s, "/"):
			scopeID = strings.TrimRight(s, "/")
		case s != "":
			segs := strings.Split(s, "/")
			if len(segs) < 3 || len(segs)%2 == 0 {
				return x.at(path+".scope", templateErr("The resource scope '%s' is not a resource ID.", s))
			}
			var names []string
			types := []string{segs[0]}
			for i := 1; i+1 < len(segs); i += 2 {
				types = append(types, segs[i])
				names = append(names, segs[i+1])
			}
			base, err := buildID(x.scope.ID(), strings.Join(types, "/"), names)
			if err != nil {
				return x.at(path+".scope", err)
			}
			scopeID = base
		}
	}
	id, err := buildID(scopeID, typ, d.names)
	if err != nil {
		return x.at(path, err)
	}
	d.id, d.rel = id, relativeKey(typ, d.names)
	if dv, ok := keyFold(m, "dependsOn"); ok {
		list, ok := dv.([]any)
		if !ok {
			return x.at(path+".dependsOn", templateErr("The resource's 'dependsOn' must be an array."))
		}
		for i, e := range list {
			v, err := x.strict(e, f, fmt.Sprintf("%s.dependsOn[%d]", path, i))
			if err != nil {
				return err
			}
			s, ok := v.(string)
			if !ok {
				return x.at(path+".dependsOn", templateErr("A dependsOn entry must be a string."))
			}
			d.deps = append(d.deps, s)
		}
	}
	if prev, dup := x.byID[lower(id)]; dup && !prev.skip && !d.skip && !d.existing && !prev.existing {
		return x.at(path, templateErr("The resource '%s' is defined multiple times in a template. Please see https://aka.ms/arm-template/#resources for usage details.", id))
	}
	if _, dup := x.byID[lower(id)]; !dup || !d.skip {
		x.byID[lower(id)] = d
		if d.rel != "" {
			x.byRel[d.rel] = d
		}
	}
	x.byName[lower(name)] = append(x.byName[lower(name)], d)
	if sym != "" {
		x.bySym[lower(sym)] = append(x.bySym[lower(sym)], d)
	}
	if loop != "" {
		x.byLoop[lower(loop)] = append(x.byLoop[lower(loop)], d)
	}
	x.decls = append(x.decls, d)
	if children, ok := keyFold(m, "resources"); ok {
		list, ok := children.([]any)
		if !ok {
			return x.at(path+".resources", templateErr("A resource's child 'resources' must be an array."))
		}
		for i, c := range list {
			cm, ok := c.(map[string]any)
			if !ok {
				return x.at(path+".resources", templateErr("A child resource must be an object."))
			}
			if err := x.declare(cm, fmt.Sprintf("%s.resources[%d]", path, i), "", d, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveDep finds the resources a dependsOn entry names: a symbolic name,
// a copy loop, a resource ID, "namespace/type/name" or a resource name.
func (x *expander) resolveDep(s string) ([]*decl, bool) {
	k := lower(s)
	if ds, ok := x.bySym[k]; ok && x.symbolic() {
		return ds, true
	}
	if ds, ok := x.byLoop[k]; ok {
		return ds, true
	}
	if d, ok := x.byID[k]; ok {
		return []*decl{d}, true
	}
	if d, ok := x.byRel[strings.TrimPrefix(k, "/")]; ok {
		return []*decl{d}, true
	}
	if i := strings.Index(k, "/providers/"); i >= 0 {
		if d, ok := x.byRel[k[i+len("/providers/"):]]; ok {
			return []*decl{d}, true
		}
	}
	if ds, ok := x.byName[k]; ok {
		return ds, true
	}
	if x.outer {
		return x.parent.resolveDep(s)
	}
	return nil, false
}

// realize evaluates a resource after what it depends on and writes it.
func (x *expander) realize(d *decl) error {
	switch d.state {
	case 2:
		return nil
	case 1:
		return x.at(d.path, templateErr("Circular dependency detected on resource: '%s'. Please see https://aka.ms/arm-template/#resources for usage details.", d.id))
	}
	if d.skip {
		d.state = 2
		return nil
	}
	d.state = 1
	if d.parent != nil {
		if err := x.realize(d.parent); err != nil {
			return err
		}
	}
	var deps []string
	for _, s := range d.deps {
		targets, ok := x.resolveDep(s)
		if !ok {
			return x.at(d.path+".dependsOn", templateErr("The resource '%s' is not defined in the template. Please see https://aka.ms/arm-template/#resources for usage details.", s))
		}
		for _, t := range targets {
			if t == d {
				return x.at(d.path, templateErr("Circular dependency detected on resource: '%s'. Please see https://aka.ms/arm-template/#resources for usage details.", d.id))
			}
			if err := x.realize(t); err != nil {
				return err
			}
			if !t.skip && !t.existing {
				deps = append(deps, t.id)
			}
		}
	}
	if d.parent != nil && !d.parent.existing {
		deps = append(deps, d.parent.id)
	}
	if d.existing {
		x.shared.existing = append(x.shared.existing, d.id)
		d.state = 2
		return nil
	}
	body, err := x.body(d)
	if err != nil {
		return err
	}
	r := &Resource{Symbolic: d.sym, ID: d.id, Type: d.typ, Name: d.name, APIVersion: d.apiVersion, Body: body,
		DependsOn: dedupe(deps), Path: x.fullPath(d.path), File: x.file(), CopyName: d.loop, CopyIndex: d.idx,
		Deployment: x.deploymentName, Scope: x.scope}
	if p, ok := x.nearest(r.Path); ok {
		r.Pos = p
	}
	if d.nested {
		outs, err := x.expandNested(d, body)
		if err != nil {
			return err
		}
		r.Nested, r.Outputs, r.Scope = true, outs, d.target
	}
	d.res = r
	if x.opts.Write != nil {
		stored, err := x.opts.Write(r)
		if err != nil {
			return err
		}
		d.stored = stored
	}
	if d.stored == nil {
		d.stored = declaredState(r)
	}
	x.shared.resources = append(x.shared.resources, r)
	d.state = 2
	return nil
}

func (x *expander) fullPath(p string) string {
	if x.path != "" {
		return x.path + "." + p
	}
	return p
}

// declaredState is what reference() reads for a resource of the template
// when no cloud wrote it: its document as declared.
func declaredState(r *Resource) map[string]any {
	doc := make(map[string]any, len(r.Body)+4)
	for k, v := range r.Body {
		doc[k] = v
	}
	doc["id"], doc["name"], doc["type"], doc["apiVersion"] = r.ID, r.Name, r.Type, r.APIVersion
	if r.Nested {
		props, _ := doc["properties"].(map[string]any)
		p := make(map[string]any, len(props)+2)
		for k, v := range props {
			p[k] = v
		}
		p["outputs"], p["provisioningState"] = r.Outputs, "Succeeded"
		doc["properties"] = p
	}
	return doc
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0]
	for _, id := range ids {
		if !seen[lower(id)] {
			seen[lower(id)] = true
			out = append(out, id)
		}
	}
	return out
}

// body evaluates the document of a resource: every key that is not
// template syntax. A nested deployment's template is left for its own
// expansion.
func (x *expander) body(d *decl) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range d.raw {
		lk := lower(k)
		if metaKeys[lk] || (d.nested && (lk == "resourcegroup" || lk == "subscriptionid")) {
			continue
		}
		if d.nested && lk == "properties" {
			pm, _ := v.(map[string]any)
			props := map[string]any{}
			for pk, pv := range pm {
				switch lower(pk) {
				case "template":
					props[pk] = pv
					continue
				case "parameters":
					if !x.innerScope(pm) {
						props[pk] = pv
						continue
					}
				}
				e, err := x.value(pv, d.f, d.path+".properties."+pk)
				if err != nil {
					return nil, err
				}
				props[pk] = e
			}
			out[k] = props
			continue
		}
		e, err := x.value(v, d.f, d.path+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = e
	}
	if _, ok := out["name"]; !ok {
		out["name"] = d.names[len(d.names)-1]
	}
	return out, nil
}

// innerScope says whether a nested deployment's template is evaluated in
// its own scope: with expressionEvaluationOptions.scope inner, and always
// for a linked template (templateLink without an inline template).
func (x *expander) innerScope(props map[string]any) bool {
	if _, inline := keyFold(props, "template"); !inline {
		if _, linked := keyFold(props, "templateLink"); linked {
			return true
		}
	}
	eo, _ := keyFold(props, "expressionEvaluationOptions")
	em, _ := eo.(map[string]any)
	return strings.EqualFold(stringFold(em, "scope"), "inner")
}
