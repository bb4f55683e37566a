package abac

import (
	"strings"
	"testing"
)

func TestParseAcceptsDocumentedSpellings(t *testing.T) {
	for _, cond := range []string{
		`!ActionMatches {'Microsoft.Authorization/roleAssignments/write'} || @Request[Microsoft.Authorization/roleAssignments:PrincipalType] stringequalsignorecase 'user'`,
		`@Resource[HasObotoken] boolequals true`,
		`@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals{b5207fd742d340fa8cc6a7e189aef39e,abed7cd4f35843849d17def9303b3b53}`,
		`(!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals{49fc33c1886f4b21a00e1d9993234734}`,
		`@Request[x] StringEquals {'single'}`,
	} {
		if _, err := Parse(cond); err != nil {
			t.Errorf("Parse(%q): %v", cond, err)
		}
	}
}

func TestParseRejectsWithPosition(t *testing.T) {
	cases := []struct {
		cond    string
		pos     int
		msgPart string
	}{
		{``, 0, "empty"},
		{`@Request[a] StringEquals 'x' AND @Request[b] StringEquals 'y' OR @Request[c] StringEquals 'z'`, 62, "without parentheses"},
		{`@Request[a] StringEquals 'x`, 25, "unterminated string"},
		{`@Request[a StringEquals 'x'`, 0, "missing ']'"},
		{`@Body[a] StringEquals 'x'`, 0, "unknown attribute source"},
		{`@Request[a] StringSounds 'x'`, 12, "unknown operator"},
		{`@Request[a] ForSomeValues:StringEquals 'x'`, 12, "cross-product prefix"},
		{`@Request[a] StringEquals {'x', 'y'}`, 25, "single values"},
		{`@Request[a] NumericEquals 1.5`, 26, "not an integer"},
		{`@Request[a] GuidEquals {1234}`, 24, "not a GUID"},
		{`@Request[a] StringEquals x`, 25, "quoted strings"},
		{`@Request[a] DateTimeEquals '2026-13-01'`, 27, "date-time"},
		{`@Request[a] BoolEquals maybe`, 23, "true or false"},
		{`@Request[a] ForAnyOfAnyValues:BoolEquals {true}`, 12, "cross-product"},
		{`(@Request[a] StringEquals 'x'`, 29, "expected ')'"},
		{`@Request[a] StringEquals 'x')`, 28, "unexpected"},
		{`ActionMatches 'x'`, 0, "braces"},
		{`Exists 'x'`, 7, "Exists takes an attribute"},
		{`@Request[a] StringEquals 'x' & @Request[b] StringEquals 'y'`, 29, "&&"},
		{`@Request[a] StringEquals 'x' AND`, 32, "expected an attribute"},
		{`@Request[a] StringEquals {'x',}`, 30, "expected a value"},
		{`@Request[a] StringEquals 'x' # comment`, 29, "unexpected character"},
		{strings.Repeat("(", MaxNesting+5) + `@Request[a] StringEquals 'x'` + strings.Repeat(")", MaxNesting+5), MaxNesting + 1, "nesting"},
		{strings.Repeat(" ", MaxConditionLength+1), MaxConditionLength, "longer than"},
	}
	for _, c := range cases {
		_, err := Parse(c.cond)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("Parse(%.60q) = %v, want a *SyntaxError", c.cond, err)
			continue
		}
		if se.Pos != c.pos || !strings.Contains(se.Msg, c.msgPart) {
			t.Errorf("Parse(%.60q) = %v (offset %d), want offset %d and %q", c.cond, se, se.Pos, c.pos, c.msgPart)
		}
	}
}

func TestMixedOperatorsNeedParentheses(t *testing.T) {
	ok := []string{
		`(@Request[a] StringEquals 'x' AND @Request[b] StringEquals 'y') OR @Request[c] StringEquals 'z'`,
		`@Request[a] StringEquals 'x' AND (@Request[b] StringEquals 'y' OR @Request[c] StringEquals 'z')`,
		`@Request[a] StringEquals 'x' && @Request[b] StringEquals 'y' AND @Request[c] StringEquals 'z'`,
	}
	for _, c := range ok {
		if _, err := Parse(c); err != nil {
			t.Errorf("Parse(%q): %v", c, err)
		}
	}
	if _, err := Parse(`@Request[a] StringEquals 'x' || @Request[b] StringEquals 'y' && @Request[c] StringEquals 'z'`); err == nil {
		t.Error("a || b && c parsed; the docs require parentheses")
	}
}

// roundTrip checks that String() reparses and is a fixed point.
func roundTrip(t testing.TB, src string) {
	x, err := Parse(src)
	if err != nil {
		return
	}
	s1 := x.String()
	y, err := Parse(s1)
	if err != nil {
		t.Fatalf("String() of %q does not reparse: %q: %v", src, s1, err)
	}
	if s2 := y.String(); s2 != s1 {
		t.Fatalf("String() is not stable:\n%q\n%q", s1, s2)
	}
}

func TestStringRoundTrips(t *testing.T) {
	for name, cond := range docExamples {
		x, err := Parse(cond)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		roundTrip(t, cond)
		// Apart from the space the docs omit in "GuidEquals{", String
		// reproduces the documented text exactly.
		want := strings.ReplaceAll(cond, "GuidEquals{", "GuidEquals {")
		if got := x.String(); got != want {
			t.Errorf("%s: String() =\n%s\nwant\n%s", name, got, want)
		}
	}
}

func TestPositionsPointAtNodes(t *testing.T) {
	src := `!(ActionMatches{'a/b'}) OR @Request[x] ForAnyOfAnyValues:GuidEquals {28c35fea-2099-4cf5-8ad9-473547bc9423}`
	x, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	Inspect(x, func(n Node) bool {
		var want string
		switch n := n.(type) {
		case *Not:
			want = "!"
		case *ActionMatches:
			want = "ActionMatches"
		case *Attribute:
			want = "@Request"
		case *Set:
			want = "{"
		case *Comparison:
			want = "@Request"
			if got := src[n.OpPos:]; !strings.HasPrefix(got, n.Op.Spelling) {
				t.Errorf("operator offset %d points at %.20q", n.OpPos, got)
			}
		default:
			return true
		}
		if got := src[n.Pos():]; !strings.HasPrefix(got, want) {
			t.Errorf("%T offset %d points at %.20q, want %q", n, n.Pos(), got, want)
		}
		return true
	})
}
