package cloud

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// maxFilterLen caps a $filter expression.
const maxFilterLen = 2048

// Filter is a parsed $filter of the resource and resource-group lists: a
// conjunction of equality clauses on resourceType, name, location,
// tagName and tagValue, `resourceGroup eq|ne 'x'` (the resource list
// only: the Azure CLI's `az resource list -g` sends it), and
// substringof('x', name), the subset ARM documents for these lists.
type Filter struct {
	Clauses []Clause
}

// Clause is one `field eq 'value'` (Op "eq"), `resourceGroup ne 'value'`
// (Op "ne") or `substringof('value', field)` (Op "substringof").
type Clause struct {
	Field string
	Op    string
	Value string
}

var filterFields = map[string]string{
	"resourcetype": "resourceType", "name": "name", "location": "location",
	"tagname": "tagName", "tagvalue": "tagValue", "resourcegroup": "resourceGroup",
}

// ParseFilter parses a $filter. It never panics; malformed input is a 400
// InvalidFilterInQueryString.
func ParseFilter(s string) (f Filter, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = Filter{}, badFilter(s, "unparseable")
		}
	}()
	s = strings.TrimSpace(s)
	if s == "" {
		return Filter{}, nil
	}
	if len(s) > maxFilterLen {
		return Filter{}, badFilter(s[:40], "too long")
	}
	toks, err := lexFilter(s)
	if err != nil {
		return Filter{}, badFilter(s, err.Error())
	}
	for i := 0; i < len(toks); {
		var cl Clause
		switch {
		case i+2 < len(toks) && toks[i].kind == tokWord && isCompare(toks[i+1]) && toks[i+2].kind == tokString:
			field, ok := filterFields[strings.ToLower(toks[i].text)]
			if !ok {
				return Filter{}, badFilter(s, fmt.Sprintf("unsupported field '%s'", truncate(toks[i].text, 40)))
			}
			op := strings.ToLower(toks[i+1].text)
			if op == "ne" && field != "resourceGroup" {
				return Filter{}, badFilter(s, fmt.Sprintf("'ne' is not supported for '%s'", field))
			}
			cl = Clause{Field: field, Op: op, Value: toks[i+2].text}
			i += 3
		case i+5 < len(toks) && strings.EqualFold(toks[i].text, "substringof") && toks[i+1].text == "(" &&
			toks[i+2].kind == tokString && toks[i+3].text == "," && strings.EqualFold(toks[i+4].text, "name") && toks[i+5].text == ")":
			cl = Clause{Field: "name", Op: "substringof", Value: toks[i+2].text}
			i += 6
		default:
			return Filter{}, badFilter(s, "expected `field eq 'value'`")
		}
		f.Clauses = append(f.Clauses, cl)
		if i < len(toks) {
			if !strings.EqualFold(toks[i].text, "and") || toks[i].kind != tokWord || i+1 == len(toks) {
				return Filter{}, badFilter(s, "clauses must be joined with 'and'")
			}
			i++
		}
	}
	if err := f.checkTags(); err != nil {
		return Filter{}, badFilter(s, err.Error())
	}
	return f, nil
}

// isCompare reports whether tok is a comparison operator of the filter.
func isCompare(tok token) bool {
	return tok.kind == tokWord && (strings.EqualFold(tok.text, "eq") || strings.EqualFold(tok.text, "ne"))
}

// checkTags requires a tagValue to come with a tagName, as ARM does.
func (f Filter) checkTags() error {
	names, values := 0, 0
	for _, c := range f.Clauses {
		switch c.Field {
		case "tagName":
			names++
		case "tagValue":
			values++
		}
	}
	if values > 0 && names == 0 || names > 1 || values > 1 {
		return fmt.Errorf("tagValue needs exactly one tagName")
	}
	return nil
}

func badFilter(s, why string) *arm.Error {
	return arm.BadRequest("InvalidFilterInQueryString", "The $filter '%s' is invalid: %s.", truncate(s, 200), why)
}

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokPunct
)

type token struct {
	kind tokKind
	text string
}

func lexFilter(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			i++
		case ch == '(' || ch == ')' || ch == ',':
			toks = append(toks, token{tokPunct, string(ch)})
			i++
		case ch == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{tokString, b.String()})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// Match reports whether a resource document passes the filter.
// resourceType compares with the stored type; tag names compare
// case-insensitively, tag values exactly, as ARM does.
func (f Filter) Match(doc map[string]any, typ string) bool {
	var tagName string
	for _, c := range f.Clauses {
		switch c.Field {
		case "resourceType":
			if !strings.EqualFold(typ, c.Value) && !strings.EqualFold(stringAt(doc, "type"), c.Value) {
				return false
			}
		case "name":
			name := stringAt(doc, "name")
			if c.Op == "substringof" && !strings.Contains(strings.ToLower(name), strings.ToLower(c.Value)) ||
				c.Op == "eq" && !strings.EqualFold(name, c.Value) {
				return false
			}
		case "resourceGroup":
			group := ""
			if id, err := arm.ParseResourceID(stringAt(doc, "id")); err == nil {
				group = id.ResourceGroup
			}
			if strings.EqualFold(group, c.Value) != (c.Op == "eq") {
				return false
			}
		case "location":
			if NormalizeLocation(stringAt(doc, "location")) != NormalizeLocation(c.Value) {
				return false
			}
		case "tagName":
			tagName = c.Value
			if _, ok := tagFold(doc, c.Value); !ok {
				return false
			}
		}
	}
	for _, c := range f.Clauses {
		if c.Field == "tagValue" {
			v, _ := tagFold(doc, tagName)
			if v != c.Value {
				return false
			}
		}
	}
	return true
}

func tagFold(doc map[string]any, name string) (string, bool) {
	tags, _ := doc["tags"].(map[string]any)
	for k, v := range tags {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s, true
		}
	}
	return "", false
}

// resourceType returns the filter's resourceType clause, if any, so a list
// can use the type index.
func (f Filter) resourceType() string {
	for _, c := range f.Clauses {
		if c.Field == "resourceType" {
			return c.Value
		}
	}
	return ""
}
