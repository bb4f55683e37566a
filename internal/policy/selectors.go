package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// ResourceSelector selects resources by location and type
// (assignment-structure.md, "Resource selectors"): a resource is selected
// when it satisfies every selector of one ResourceSelector.
type ResourceSelector struct {
	Name      string     `json:"name"`
	Selectors []Selector `json:"selectors"`
}

// Selector is one condition of a resource selector or an override:
// kind resourceLocation, resourceType, resourceWithoutLocation or
// policyDefinitionReferenceId, with in or notIn values.
type Selector struct {
	Kind  string   `json:"kind"`
	In    []string `json:"in,omitempty"`
	NotIn []string `json:"notIn,omitempty"`
}

// maxSelectorValues is the documented limit of in/notIn values.
const maxSelectorValues = 50

func parseSelectors(v any, path string) ([]Selector, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, perr(path, "selectors must be an array, got %s", armexpr.TypeName(v))
	}
	out := make([]Selector, 0, len(list))
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, perr(p, "a selector must be an object")
		}
		s := Selector{Kind: stringAt(m, "kind")}
		switch strings.ToLower(s.Kind) {
		case "resourcelocation", "resourcetype", "resourcewithoutlocation", "policydefinitionreferenceid":
		default:
			return nil, perr(p+".kind", "unknown selector kind %q", s.Kind)
		}
		var err error
		if s.In, err = stringList(m, "in", p); err != nil {
			return nil, err
		}
		if s.NotIn, err = stringList(m, "notIn", p); err != nil {
			return nil, err
		}
		if (s.In == nil) == (s.NotIn == nil) {
			return nil, perr(p, "a selector needs exactly one of in and notIn")
		}
		out = append(out, s)
	}
	return out, nil
}

func stringList(m map[string]any, key, path string) ([]string, error) {
	v, ok := armexpr.Lookup(m, key)
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, perr(path+"."+key, "must be an array of strings")
	}
	if len(list) > maxSelectorValues {
		return nil, perr(path+"."+key, "has %d values, more than %d", len(list), maxSelectorValues)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, perr(path+"."+key, "must be an array of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

func parseResourceSelectors(v any, path string) ([]ResourceSelector, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, perr(path, "resourceSelectors must be an array")
	}
	var out []ResourceSelector
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, perr(p, "must be an object")
		}
		sv, _ := armexpr.Lookup(m, "selectors")
		sels, err := parseSelectors(sv, p+".selectors")
		if err != nil {
			return nil, err
		}
		out = append(out, ResourceSelector{Name: stringAt(m, "name"), Selectors: sels})
	}
	return out, nil
}

// matches reports whether a selector holds for a resource (and, for
// policyDefinitionReferenceId selectors, a member reference ID).
func (s Selector) matches(res *Resource, referenceID string) bool {
	var subject string
	switch strings.ToLower(s.Kind) {
	case "resourcelocation":
		if !res.hasLoc {
			return false
		}
		return s.test(res.locNorm, true)
	case "resourcetype":
		subject = res.typ
	case "resourcewithoutlocation":
		// The only value is "subscriptionLevelResources": resources
		// without a location.
		subject = ""
		if !res.hasLoc || strings.EqualFold(res.location, "global") {
			subject = "subscriptionLevelResources"
		}
	case "policydefinitionreferenceid":
		subject = referenceID
	}
	return s.test(subject, false)
}

func (s Selector) test(subject string, loc bool) bool {
	in := func(list []string) bool {
		for _, v := range list {
			if loc && normalizeLocation(v) == subject || strings.EqualFold(v, subject) {
				return true
			}
		}
		return false
	}
	if s.In != nil {
		return in(s.In)
	}
	return !in(s.NotIn)
}

// selectsResource reports whether resource selectors select a resource:
// all selectors of any one resource selector hold. No selectors select
// everything.
func selectsResource(rs []ResourceSelector, res *Resource) bool {
	if len(rs) == 0 {
		return true
	}
	for _, r := range rs {
		all := true
		for _, s := range r.Selectors {
			if !s.matches(res, "") {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
