package insights

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// OrderKey is one "$orderby" term.
type OrderKey struct {
	Field string // lower case
	Name  string
	Desc  bool
}

// ParseOrderBy parses "$orderby": comma-separated properties, each with
// an optional asc or desc. The spec says desc is the default.
func ParseOrderBy(s string, known map[string]string) (keys []OrderKey, err error) {
	defer guard("$orderby", &err)
	toks, err := lex("$orderby", s)
	if err != nil {
		return nil, err
	}
	p := &parser{param: "$orderby", toks: toks}
	for {
		t, err := p.expect(tokIdent, "a property name")
		if err != nil {
			return nil, err
		}
		k := OrderKey{Field: strings.ToLower(t.text), Name: t.text, Desc: true}
		if _, ok := known[k.Field]; !ok {
			return nil, p.errorf(t.pos, "unknown property %s", describe(t))
		}
		if p.keyword("asc") {
			k.Desc = false
		} else {
			p.keyword("desc")
		}
		keys = append(keys, k)
		n := p.next()
		if n.kind == tokEOF {
			return keys, nil
		}
		if n.kind != tokComma {
			return nil, p.errorf(n.pos, "expected ',' between properties, found %s", describe(n))
		}
	}
}

// ParseSelect parses "$select": comma-separated property names.
func ParseSelect(s string, known map[string]string) (fields []OrderKey, err error) {
	defer guard("$select", &err)
	toks, err := lex("$select", s)
	if err != nil {
		return nil, err
	}
	p := &parser{param: "$select", toks: toks}
	for {
		t, err := p.expect(tokIdent, "a property name")
		if err != nil {
			return nil, err
		}
		name := strings.ToLower(t.text)
		if _, ok := known[name]; !ok {
			return nil, p.errorf(t.pos, "unknown property %s", describe(t))
		}
		fields = append(fields, OrderKey{Field: name, Name: t.text})
		n := p.next()
		if n.kind == tokEOF {
			return fields, nil
		}
		if n.kind != tokComma {
			return nil, p.errorf(n.pos, "expected ',' between properties, found %s", describe(n))
		}
	}
}

// sortRows orders rows by keys; rows equal on every key keep their order.
func sortRows(rows []Row, keys []OrderKey) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		for _, k := range keys {
			x, _ := a.Get(k.Field)
			y, _ := b.Get(k.Field)
			n := orderValues(x, y)
			if k.Desc {
				n = -n
			}
			if n != 0 {
				return n
			}
		}
		return 0
	})
}

// orderValues compares for sorting: nulls first, then by value.
func orderValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if n, ok := compareValues(a, b); ok {
		return n
	}
	return strings.Compare(renderValue(a), renderValue(b))
}

// renderValue is a value as text, for grouping keys and mixed sorts.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return formatTime(x)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}

func sortStrings(s []string) { slices.Sort(s) }
