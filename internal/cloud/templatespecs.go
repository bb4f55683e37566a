package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/template"
)

// Template spec types. Template specs and their versions are stored as
// generic resources; a version's PUT is checked by validateTemplateSpecVersion.
const (
	TypeTemplateSpec        = "Microsoft.Resources/templateSpecs"
	TypeTemplateSpecVersion = "Microsoft.Resources/templateSpecs/versions"
)

func (c *Cloud) registerTemplateSpecs() {
	c.OnPut(TypeTemplateSpecVersion, validateTemplateSpecVersion)
}

// validateTemplateSpecVersion checks a template spec version's document:
// properties.mainTemplate is a template object and each linkedTemplates
// artifact has a relative path (no "..") and a template object.
func validateTemplateSpecVersion(_ context.Context, _ string, doc, _ map[string]any) error {
	props, _ := doc["properties"].(map[string]any)
	main, _ := lookupFold(props, "mainTemplate")
	if _, ok := main.(map[string]any); !ok {
		return arm.BadRequest("InvalidRequestContent", "The template spec version must have an object 'properties.mainTemplate'.")
	}
	lv, ok := lookupFold(props, "linkedTemplates")
	if !ok || lv == nil {
		return nil
	}
	list, ok := lv.([]any)
	if !ok {
		return arm.BadRequest("InvalidRequestContent", "'properties.linkedTemplates' must be an array of {path, template}.")
	}
	seen := map[string]bool{}
	for i, a := range list {
		am, _ := a.(map[string]any)
		p, _ := lookupFold(am, "path")
		ps, _ := p.(string)
		t, _ := lookupFold(am, "template")
		if _, ok := t.(map[string]any); !ok || ps == "" {
			return arm.BadRequest("InvalidRequestContent", "'properties.linkedTemplates[%d]' must have a 'path' and an object 'template'.", i)
		}
		clean, ok := artifactPath(ps)
		if !ok {
			return arm.BadRequest("InvalidRequestContent", "The linked template path '%s' must be relative to the main template and stay below it.", truncate(ps, 200))
		}
		if seen[clean] {
			return arm.BadRequest("InvalidRequestContent", "The linked template path '%s' appears twice.", truncate(ps, 200))
		}
		seen[clean] = true
	}
	return nil
}

// artifactPath is the cleaned, case-folded form of a linked template's
// path, and whether it stays below the main template.
func artifactPath(p string) (string, bool) {
	p = strings.ReplaceAll(p, "\\", "/")
	if strings.HasPrefix(p, "/") {
		return "", false
	}
	clean := path.Clean(p)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return strings.ToLower(clean), true
}

// templateSpecSource is a template spec version a deployment links by
// templateLink.id: its main template and its linked templates by path.
type templateSpecSource struct {
	main      map[string]any
	artifacts map[string]map[string]any
}

// loadTemplateSpec reads the template spec version id for a deployment by
// the caller: 404 when it is missing, 403 without read permission.
func (c *Cloud) loadTemplateSpec(ctx context.Context, call *Call, id string) (*templateSpecSource, error) {
	r, err := arm.ParseResourceID(id)
	if err != nil || !strings.EqualFold(r.ResourceType(), TypeTemplateSpecVersion) {
		return nil, arm.BadRequest("InvalidTemplateSpecId", "The templateLink id '%s' is not the resource ID of a template spec version (.../providers/Microsoft.Resources/templateSpecs/{name}/versions/{version}).", truncate(id, 300))
	}
	if !c.Allowed(ctx, call.Principal, rbac.Request{Action: TypeTemplateSpecVersion + "/read", Scope: r.String()}) {
		return nil, authorizationFailed(call.Principal, TypeTemplateSpecVersion+"/read", r.String())
	}
	res, err := c.Get(ctx, r.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound("TemplateSpecVersionNotFound", "The template spec version '%s' could not be found.", truncate(id, 300))
	}
	if err != nil {
		return nil, storeError(err)
	}
	props, _ := res.Doc["properties"].(map[string]any)
	mv, _ := lookupFold(props, "mainTemplate")
	main, ok := mv.(map[string]any)
	if !ok {
		return nil, arm.BadRequest("InvalidTemplateSpec", "The template spec version '%s' has no mainTemplate.", truncate(id, 300))
	}
	src := &templateSpecSource{main: main, artifacts: map[string]map[string]any{}}
	lv, _ := lookupFold(props, "linkedTemplates")
	list, _ := lv.([]any)
	for _, a := range list {
		am, _ := a.(map[string]any)
		p, _ := lookupFold(am, "path")
		ps, _ := p.(string)
		t, _ := lookupFold(am, "template")
		tm, _ := t.(map[string]any)
		if clean, ok := artifactPath(ps); ok && tm != nil {
			src.artifacts[clean] = tm
		}
	}
	return src, nil
}

// link resolves a relativePath from the template at from (the main
// template is ""; an artifact is its path) to one of the version's linked
// templates, as Azure resolves them inside a template spec.
func (s *templateSpecSource) link(from, rel string) (*template.Template, error) {
	if strings.HasPrefix(rel, "/") || strings.Contains(rel, "://") {
		return nil, errors.New("relativePath must be a relative path")
	}
	p, ok := artifactPath(path.Join(path.Dir(from), strings.ReplaceAll(rel, "\\", "/")))
	if !ok {
		return nil, errors.New("the path leaves the template spec")
	}
	doc, found := s.artifacts[p]
	if !found {
		return nil, errors.New("the template spec version has no linked template at '" + p + "'")
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(b)
	if err != nil {
		return nil, err
	}
	t.File = p
	return t, nil
}
