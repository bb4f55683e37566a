package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/armexpr"
)

// ParameterDef is a declared parameter of a definition or set.
type ParameterDef struct {
	Name string
	// Type is the declared type, normalised to String, Array, Object,
	// Boolean, Integer, Float or DateTime.
	Type          string
	DefaultValue  any
	HasDefault    bool
	AllowedValues []any
	Metadata      map[string]any
}

var parameterTypes = map[string]string{
	"string": "String", "array": "Array", "object": "Object", "boolean": "Boolean",
	"integer": "Integer", "float": "Float", "datetime": "DateTime",
}

func parseParameterDefs(v any, path string) ([]*ParameterDef, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, perr(path, "parameters must be an object, got %s", armexpr.TypeName(v))
	}
	out := make([]*ParameterDef, 0, len(m))
	for _, name := range sortedKeys(m) {
		p := path + "." + name
		pm, ok := m[name].(map[string]any)
		if !ok {
			return nil, perr(p, "a parameter must be an object, got %s", armexpr.TypeName(m[name]))
		}
		def := &ParameterDef{Name: name}
		tv := stringAt(pm, "type")
		if def.Type, ok = parameterTypes[strings.ToLower(tv)]; !ok {
			return nil, perr(p+".type", "unknown parameter type %q (want String, Array, Object, Boolean, Integer, Float or DateTime)", tv)
		}
		def.DefaultValue, def.HasDefault = armexpr.Lookup(pm, "defaultValue")
		if av, ok := armexpr.Lookup(pm, "allowedValues"); ok && av != nil {
			list, ok := av.([]any)
			if !ok {
				return nil, perr(p+".allowedValues", "must be an array, got %s", armexpr.TypeName(av))
			}
			def.AllowedValues = list
		}
		if md, ok := armexpr.Lookup(pm, "metadata"); ok {
			def.Metadata, _ = md.(map[string]any)
		}
		out = append(out, def)
	}
	return out, nil
}

// Parameter returns the declared parameter with the given name, compared
// case-insensitively.
func (d *Definition) Parameter(name string) (*ParameterDef, bool) {
	for _, p := range d.Parameters {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return nil, false
}

// ParameterError is a parameter value that is missing, of the wrong type
// or not among the allowed values.
type ParameterError struct {
	Name    string
	Message string
}

// Error formats the parameter name and the problem.
func (e *ParameterError) Error() string {
	return fmt.Sprintf("parameter %q: %s", e.Name, e.Message)
}

// resolveParameters merges assigned values with declared defaults and
// checks them: every declared parameter needs a value or a default, values
// must have the declared type and be among allowedValues (compared
// case-sensitively, as Azure does at assignment time, unless fold is set:
// values an initiative passes its members are compared ignoring case, as
// built-in initiatives pass "audit" to members allowing "Audit"). Values for
// undeclared parameters are kept as given when decls is nil (a bare rule
// has no declarations). The result is keyed by lower-case name.
func resolveParameters(decls []*ParameterDef, given map[string]any, strict, fold bool) (map[string]any, error) {
	out := make(map[string]any, len(decls)+len(given))
	lowerGiven := make(map[string]any, len(given))
	for k, v := range given {
		lowerGiven[strings.ToLower(k)] = unwrapParameterValue(v)
	}
	for _, d := range decls {
		key := strings.ToLower(d.Name)
		v, ok := lowerGiven[key]
		if !ok {
			if !d.HasDefault {
				if strict {
					return nil, &ParameterError{Name: d.Name, Message: "no value was given and it has no defaultValue"}
				}
				continue
			}
			// Defaults are the author's and are not checked: a built-in
			// initiative declares a String with the default [].
			out[key] = d.DefaultValue
			continue
		}
		if err := checkParameter(d, v, fold); err != nil {
			return nil, err
		}
		out[key] = v
	}
	for k, v := range lowerGiven {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out, nil
}

// unwrapParameterValue accepts both {"p": value} and the assignment form
// {"p": {"value": value}}.
func unwrapParameterValue(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if inner, ok := armexpr.Lookup(m, "value"); ok {
			return inner
		}
	}
	return v
}

func checkParameter(d *ParameterDef, v any, fold bool) error {
	if v != nil && !isExpression(asString(v)) {
		ok := true
		switch d.Type {
		case "String":
			_, ok = v.(string)
		case "Array":
			_, ok = v.([]any)
		case "Object":
			_, ok = v.(map[string]any)
		case "Boolean":
			_, ok = v.(bool)
		case "Integer":
			_, ok = v.(int64)
		case "Float":
			_, ok = toFloat(v)
		case "DateTime":
			s, isStr := v.(string)
			ok = isStr && validDateTime(s)
		}
		if !ok {
			return &ParameterError{Name: d.Name, Message: fmt.Sprintf("value %s is %s, want %s", formatValue(v), armexpr.TypeName(v), d.Type)}
		}
	}
	if len(d.AllowedValues) > 0 && !isExpression(asString(v)) {
		if !allowed(d.AllowedValues, v, fold) {
			return &ParameterError{Name: d.Name, Message: fmt.Sprintf("value %s is not one of the allowedValues", formatValue(v))}
		}
	}
	return nil
}

// allowed reports whether v is one of the allowed values or, for an
// array, whether each of its members is.
func allowed(list []any, v any, fold bool) bool {
	for _, a := range list {
		if exactEqual(a, v) || (fold && looseEqual(a, v)) {
			return true
		}
	}
	arr, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range arr {
		if !allowed(list, e, fold) {
			return false
		}
	}
	return true
}

func asString(v any) string { s, _ := v.(string); return s }

func validDateTime(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// exactEqual compares values case-sensitively (allowedValues semantics):
// numbers by value, strings and booleans exactly, arrays and objects
// member by member.
func exactEqual(a, b any) bool {
	return deepEqual(a, b, false, func(x, y any) bool {
		if fx, ok := toFloat(x); ok {
			fy, ok := toFloat(y)
			return ok && fx == fy
		}
		return x == y
	})
}
