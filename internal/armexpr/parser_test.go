package armexpr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestIsExpressionRecognisesBrackets(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"[concat('a')]", true},
		{"[]", true},
		{"[[escaped]", false},
		{"[[concat('a')]]", false},
		{"plain", false},
		{"[no end", false},
		{"no start]", false},
		{"[", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsExpression(tt.in); got != tt.want {
			t.Errorf("IsExpression(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseCanonicalForm(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"[concat('a','b')]", "[concat('a', 'b')]"},
		{"[  toLower( field( 'name' ) )  ]", "[toLower(field('name'))]"},
		{"[CONCAT('x')]", "[CONCAT('x')]"},
		{"['it''s']", "['it''s']"},
		{"['']", "['']"},
		{"[add(-1, 5)]", "[add(-1, 5)]"},
		{"[add(-2.5, 3.50)]", "[add(-2.5, 3.5)]"},
		{"[add(2.0, 1)]", "[add(2.0, 1)]"},
		{"[resourceGroup().location]", "[resourceGroup().location]"},
		{"[parameters('p')[0].name['x']]", "[parameters('p')[0].name['x']]"},
		{"[first(parameters('a'))[parameters('i')]]", "[first(parameters('a'))[parameters('i')]]"},
		{"[createArray()]", "[createArray()]"},
		{"[ns.myFunc(1)]", "[ns.myFunc(1)]"},
		{"[requestContext().identity.$schema]", "[requestContext().identity.$schema]"},
		{"[concat('a',\u202f'b')]", "[concat('a', 'b')]"},
		{"[f('[]')]", "[f('[]')]"},
		{"[string(true)]", "[string(true)]"},
		{"[if(FALSE, 1, 2)]", "[if(false, 1, 2)]"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		again, err := Parse(n.String())
		if err != nil {
			t.Errorf("reparse of %q: %v", n.String(), err)
			continue
		}
		if !sameTree(n, again) {
			t.Errorf("Parse(%q) and its reparse differ", tt.in)
		}
	}
}

func TestParseBuildsTree(t *testing.T) {
	n, err := Parse("[field('tags')['env'].x]")
	if err != nil {
		t.Fatal(err)
	}
	want := &Expr{X: &Property{Offset: 21, Name: "x", Target: &Index{Offset: 14,
		Target: &FuncCall{Offset: 1, Name: "field", Args: []Node{&StringLit{Offset: 7, Value: "tags"}}},
		Index:  &StringLit{Offset: 15, Value: "env"}}}}
	if !sameTree(n, want) || !samePositions(n, want) {
		t.Errorf("Parse built %s with positions %v, want %v", n, positions(n), positions(want))
	}
}

func TestParseRejectsMalformedInput(t *testing.T) {
	tests := []struct {
		in      string
		pos     int
		message string
	}{
		{"concat('a')", 0, "must start with '['"},
		{"[]", 1, "empty"},
		{"[   ]", 4, "empty"},
		{"[concat('a']", 11, "expected ',' or ')'"},
		{"[concat('a',)]", 12, "expected a function call"},
		{"[concat('a' 'b')]", 12, "expected ',' or ')'"},
		{"['unterminated]", 1, "unterminated string"},
		{"[name]", 5, "'(' after function name"},
		{"[f().]", 5, "property name"},
		{"[f()[0]", 6, "expected ']'"},
		{"[f() g()]", 5, "end of the expression"},
		{"[f(#)]", 3, "unexpected character"},
		{"[-]", 1, "digit"},
		{"[add(99999999999999999999, 1)]", 5, "out of range"},
		{"[1.]", 3, "property name"},
		{"[ns.]", 4, "function name after the namespace"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) error = %v, want *Error", tt.in, err)
			continue
		}
		if e.Code != CodeParse || e.Pos != tt.pos || !strings.Contains(e.Message, tt.message) {
			t.Errorf("Parse(%q) = %v (pos %d), want position %d and %q", tt.in, e, e.Pos, tt.pos, tt.message)
		}
	}
}

func TestParseCapsSizeAndDepth(t *testing.T) {
	long := "['" + strings.Repeat("a", MaxExpressionSize) + "']"
	if _, err := Parse(long); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Parse of %d bytes: %v, want a size error", len(long), err)
	}
	deep := "[" + strings.Repeat("f(", maxDepth+2) + strings.Repeat(")", maxDepth+2) + "]"
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("Parse of nesting %d: %v, want a depth error", maxDepth+2, err)
	}
	ok := "[" + strings.Repeat("f(", maxDepth) + strings.Repeat(")", maxDepth) + "]"
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse of nesting %d: %v", maxDepth, err)
	}
}

func TestWalkVisitsInOrderAndPrunes(t *testing.T) {
	n, err := Parse("[concat(field('a'), parameters('b')[0])]")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	Walk(n, func(x Node) bool {
		switch x := x.(type) {
		case *FuncCall:
			seen = append(seen, x.Name)
			return x.Name != "field"
		case *StringLit:
			seen = append(seen, "'"+x.Value+"'")
		case *IntLit:
			seen = append(seen, x.String())
		case *Index:
			seen = append(seen, "[]")
		}
		return true
	})
	want := []string{"concat", "field", "[]", "parameters", "'b'", "0"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("Walk visited %v, want %v", seen, want)
	}
}

// sameTree compares two trees ignoring positions and name spelling caches.
func sameTree(a, b Node) bool {
	switch a := a.(type) {
	case *Expr:
		b, ok := b.(*Expr)
		return ok && sameTree(a.X, b.X)
	case *FuncCall:
		b, ok := b.(*FuncCall)
		if !ok || a.Name != b.Name || len(a.Args) != len(b.Args) {
			return false
		}
		for i := range a.Args {
			if !sameTree(a.Args[i], b.Args[i]) {
				return false
			}
		}
		return true
	case *Property:
		b, ok := b.(*Property)
		return ok && a.Name == b.Name && sameTree(a.Target, b.Target)
	case *Index:
		b, ok := b.(*Index)
		return ok && sameTree(a.Target, b.Target) && sameTree(a.Index, b.Index)
	case *StringLit:
		b, ok := b.(*StringLit)
		return ok && a.Value == b.Value
	case *IntLit:
		b, ok := b.(*IntLit)
		return ok && a.Value == b.Value
	case *FloatLit:
		b, ok := b.(*FloatLit)
		return ok && a.Value == b.Value
	case *BoolLit:
		b, ok := b.(*BoolLit)
		return ok && a.Value == b.Value
	}
	return false
}

func positions(n Node) []int {
	var out []int
	Walk(n, func(x Node) bool { out = append(out, x.Pos()); return true })
	return out
}

func samePositions(a, b Node) bool { return reflect.DeepEqual(positions(a), positions(b)) }
