package template

import (
	"fmt"
	"sort"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// paramState is a parameter bound lazily: defaults may refer to other
// parameters, in any order.
type paramState struct {
	name  string
	decl  map[string]any
	value any
	state int // 0 unbound, 1 binding, 2 bound
}

// declareParameters reads the template's parameters and checks the given
// values name only declared ones.
func (x *expander) declareParameters(given map[string]any) error {
	x.params = map[string]*paramState{}
	decls, _ := keyFold(x.t.Doc, "parameters")
	dm, ok := decls.(map[string]any)
	if decls != nil && !ok {
		return templateErr("The template's 'parameters' must be an object.")
	}
	for name, d := range dm {
		m, ok := d.(map[string]any)
		if !ok {
			return x.at("parameters."+name, templateErr("The template parameter '%s' must be an object with a type.", name))
		}
		x.params[lower(name)] = &paramState{name: name, decl: m}
	}
	x.given = map[string]any{}
	var unknown []string
	for k, v := range given {
		v = armexpr.Normalize(v)
		if _, ok := x.params[lower(k)]; !ok {
			if strings.HasPrefix(k, "$") { // "$schema" in a whole parameter file
				continue
			}
			unknown = append(unknown, k)
			continue
		}
		x.given[lower(k)] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return templateErr("The template parameters '%s' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '%s'.",
			strings.Join(unknown, ", "), strings.Join(x.paramNames(), ", "))
	}
	for _, n := range x.paramNames() {
		if _, err := x.param(n); err != nil {
			return err
		}
	}
	return nil
}

func (x *expander) paramNames() []string {
	out := make([]string, 0, len(x.params))
	for _, p := range x.params {
		out = append(out, p.name)
	}
	sort.Strings(out)
	return out
}

// param returns a parameter's value, binding it on first use.
func (x *expander) param(name string) (any, error) {
	p, ok := x.params[lower(name)]
	if !ok {
		return nil, templateErr("The template parameter '%s' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.", name)
	}
	switch p.state {
	case 2:
		return p.value, nil
	case 1:
		return nil, templateErr("The template parameter '%s' refers to itself through its default value.", p.name)
	}
	p.state = 1
	v, err := x.bindParameter(p)
	if err != nil {
		p.state = 0
		return nil, x.at("parameters."+p.name, err)
	}
	p.value, p.state = v, 2
	return v, nil
}

func (x *expander) bindParameter(p *paramState) (any, error) {
	decl, err := x.resolveType(p.decl)
	if err != nil {
		return nil, err
	}
	v, given := x.given[lower(p.name)]
	if given {
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			if inner, ok := keyFold(m, "value"); ok {
				v = inner
			} else if ref, ok := keyFold(m, "reference"); ok {
				if v, err = x.keyVault(p.name, ref); err != nil {
					return nil, err
				}
			}
		}
	} else if d, ok := keyFold(decl, "defaultValue"); ok {
		v, err = x.value(d, &frame{paramDefault: true}, "parameters."+p.name+".defaultValue")
		if err != nil {
			return nil, err
		}
	} else if nullable, _ := keyFold(decl, "nullable"); nullable == true {
		return nil, nil
	} else {
		pos := x.pos("parameters." + p.name)
		return nil, templateErr("The value for the template parameter '%s' at line '%d' and column '%d' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.", p.name, pos.Line, pos.Column)
	}
	if err := x.checkValue(p.name, decl, v); err != nil {
		return nil, err
	}
	return v, nil
}

// keyVault resolves a parameter file's Key Vault reference.
func (x *expander) keyVault(name string, ref any) (any, error) {
	m, _ := ref.(map[string]any)
	kv, _ := keyFold(m, "keyVault")
	kvm, _ := kv.(map[string]any)
	id, secret, version := stringFold(kvm, "id"), stringFold(m, "secretName"), stringFold(m, "secretVersion")
	if id == "" || secret == "" {
		return nil, templateErr("The Key Vault reference of parameter '%s' needs keyVault.id and secretName.", name)
	}
	if x.opts.KeyVault == nil {
		return nil, templateErr("The Key Vault reference of parameter '%s' cannot be resolved here: no vault is reachable.", name)
	}
	s, err := x.opts.KeyVault(id, secret, version)
	if err != nil {
		return nil, &Error{Code: "KeyVaultParameterReferenceSecretRetrieveFailed",
			Message: fmt.Sprintf("The value of deployment parameter '%s' is null. Please specify the value or use the parameter reference: %v", name, err)}
	}
	return s, nil
}

// resolveType follows a "$ref" to the template's definitions (user-defined
// types) and merges the reference's own constraints over it.
func (x *expander) resolveType(decl map[string]any) (map[string]any, error) {
	for depth := 0; depth < 32; depth++ {
		ref := stringFold(decl, "$ref")
		if ref == "" {
			return decl, nil
		}
		const prefix = "#/definitions/"
		if !strings.HasPrefix(ref, prefix) {
			return nil, templateErr("The type reference '%s' is not supported: only '#/definitions/...' references are.", ref)
		}
		defs, _ := keyFold(x.t.Doc, "definitions")
		dm, _ := defs.(map[string]any)
		target, ok := keyFold(dm, strings.TrimPrefix(ref, prefix))
		tm, isObj := target.(map[string]any)
		if !ok || !isObj {
			return nil, templateErr("The type definition '%s' is not found in the template's definitions.", ref)
		}
		merged := make(map[string]any, len(tm)+len(decl))
		for k, v := range tm {
			merged[k] = v
		}
		for k, v := range decl {
			if k != "$ref" {
				merged[k] = v
			}
		}
		decl = merged
	}
	return nil, templateErr("The type definitions refer to each other too deeply.")
}

// checkValue validates a value against a parameter or type declaration.
func (x *expander) checkValue(name string, decl map[string]any, v any) error {
	decl, err := x.resolveType(decl)
	if err != nil {
		return err
	}
	if v == nil {
		if n, _ := keyFold(decl, "nullable"); n == true {
			return nil
		}
	}
	typ := lower(stringFold(decl, "type"))
	ok := false
	switch typ {
	case "string", "securestring":
		_, ok = v.(string)
	case "int":
		_, ok = v.(int64)
	case "bool":
		_, ok = v.(bool)
	case "object", "secureobject":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	case "":
		ok = true
	default:
		return templateErr("The template parameter '%s' has type '%s', which is not one of string, securestring, int, bool, object, secureObject, array.", name, stringFold(decl, "type"))
	}
	if !ok {
		return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("Template parameter JToken type is not valid. Expected '%s'. Actual '%s'. Please see https://aka.ms/arm-create-parameter-file for usage details.", typeWord(typ), valueWord(v))}
	}
	if av, ok := keyFold(decl, "allowedValues"); ok {
		allowed, _ := av.([]any)
		vals := []any{v}
		if arr, isArr := v.([]any); isArr && typ == "array" {
			vals = arr
		}
		for _, one := range vals {
			found := false
			for _, a := range allowed {
				if armexpr.Equal(a, one) {
					found = true
					break
				}
			}
			if !found {
				words := make([]string, len(allowed))
				for i, a := range allowed {
					words[i] = fmt.Sprint(a)
				}
				return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The provided value '%v' for the template parameter '%s' is not valid. The parameter value is not part of the allowed value(s): '%s'.", one, name, strings.Join(words, ","))}
			}
		}
	}
	if n, isInt := v.(int64); isInt {
		if mv, ok := keyFold(decl, "minValue"); ok {
			if m, _ := mv.(int64); n < m {
				return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The provided value '%d' for the template parameter '%s' is not valid. The parameter value is less than the minimum value '%d'.", n, name, m)}
			}
		}
		if mv, ok := keyFold(decl, "maxValue"); ok {
			if m, _ := mv.(int64); n > m {
				return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The provided value '%d' for the template parameter '%s' is not valid. The parameter value is greater than the maximum value '%d'.", n, name, m)}
			}
		}
	}
	length := -1
	switch t := v.(type) {
	case string:
		length = len([]rune(t))
	case []any:
		length = len(t)
	}
	if length >= 0 {
		if mv, ok := keyFold(decl, "minLength"); ok {
			if m, _ := mv.(int64); int64(length) < m {
				return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The provided value for the template parameter '%s' is not valid. Length of the value should be greater than or equal to '%d'.", name, m)}
			}
		}
		if mv, ok := keyFold(decl, "maxLength"); ok {
			if m, _ := mv.(int64); int64(length) > m {
				return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The provided value for the template parameter '%s' is not valid. Length of the value should be less than or equal to '%d'.", name, m)}
			}
		}
	}
	// User-defined object types: declared properties must be present
	// (unless nullable) and match their own types.
	if obj, isObj := v.(map[string]any); isObj {
		if props, ok := keyFold(decl, "properties"); ok {
			pm, _ := props.(map[string]any)
			for pn, pd := range pm {
				pdm, _ := pd.(map[string]any)
				pv, present := keyFold(obj, pn)
				if !present {
					rd, err := x.resolveType(pdm)
					if err != nil {
						return err
					}
					if n, _ := keyFold(rd, "nullable"); n != true {
						return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("The value of the template parameter '%s' is missing the required property '%s'.", name, pn)}
					}
					continue
				}
				if err := x.checkValue(name+"."+pn, pdm, pv); err != nil {
					return err
				}
			}
		}
	}
	if arr, isArr := v.([]any); isArr {
		if items, ok := keyFold(decl, "items"); ok {
			if im, ok := items.(map[string]any); ok {
				for i, e := range arr {
					if err := x.checkValue(fmt.Sprintf("%s[%d]", name, i), im, e); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func typeWord(t string) string {
	switch t {
	case "string", "securestring":
		return "String"
	case "int":
		return "Integer"
	case "bool":
		return "Boolean"
	case "object", "secureobject":
		return "Object"
	case "array":
		return "Array"
	}
	return t
}

func valueWord(v any) string { return armexpr.TypeName(v) }

// boundParameters is Result.Parameters: the values with their types,
// secure ones without their value.
func (x *expander) boundParameters() map[string]any {
	out := map[string]any{}
	for _, p := range x.params {
		t := stringFold(p.decl, "type")
		if t == "" {
			if d, err := x.resolveType(p.decl); err == nil {
				t = stringFold(d, "type")
			}
		}
		entry := map[string]any{"type": outputType(t)}
		if !strings.HasPrefix(lower(t), "secure") {
			entry["value"] = p.value
		}
		out[p.name] = entry
	}
	return out
}

// outputType spells a declared type as Azure returns it ("String",
// "SecureString", "Int", "Bool", "Object", "SecureObject", "Array").
func outputType(t string) string {
	switch lower(t) {
	case "string":
		return "String"
	case "securestring":
		return "SecureString"
	case "int":
		return "Int"
	case "bool":
		return "Bool"
	case "object":
		return "Object"
	case "secureobject":
		return "SecureObject"
	case "array":
		return "Array"
	}
	return t
}
