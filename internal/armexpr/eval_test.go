package armexpr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var errHostFailure = errors.New("host failure")

// testHost models the policy host functions over fixed data.
func testHost(name string, args []any) (any, bool, error) {
	params := map[string]any{
		"items":  []any{"a", "b"},
		"prefix": "pre",
		"obj":    map[string]any{"Name": "n", "nested": map[string]any{"k": int64(1)}},
	}
	switch name {
	case "parameters":
		key, _ := args[0].(string)
		v, ok := lookup(params, key)
		if !ok {
			return nil, true, errorf(CodeNotFound, "no parameter %s", key)
		}
		return v, true, nil
	case "resourcegroup":
		return map[string]any{"name": "rg", "location": "westeurope"}, true, nil
	case "fail":
		return nil, true, errHostFailure
	}
	return nil, false, nil
}

func TestEvalComputesValues(t *testing.T) {
	ec := &EvalContext{Now: time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC), Host: testHost}
	tests := []struct {
		expr string
		want any
	}{
		{"[concat('a', 'b', 1, true())]", "ab1true"},
		{"[string(true)]", "true"},
		{"[and(TRUE, not(false))]", true},
		{"[concat(createArray(1), createArray(2, 3))]", []any{int64(1), int64(2), int64(3)}},
		{"[CONCAT(parameters('prefix'), '-vm')]", "pre-vm"},
		{"[parameters('items')[1]]", "b"},
		{"[parameters('obj').name]", "n"},
		{"[parameters('obj')['NESTED'].k]", int64(1)},
		{"[resourceGroup().location]", "westeurope"},
		{"[if(empty(parameters('items')), 'none', first(parameters('items')))]", "a"},
		{"[if(true(), 'yes', fail())]", "yes"},
		{"[if(false(), fail(), 'no')]", "no"},
		{"[length(split('a,b,c', ','))]", int64(3)},
		{"[substring('hello', 1, 3)]", "ell"},
		{"[substring('héllo', 1)]", "éllo"},
		{"[replace('a-b-c', '-', '_')]", "a_b_c"},
		{"[toUpper('abc')]", "ABC"},
		{"[contains('Hello', 'ell')]", true},
		{"[contains('Hello', 'ELL')]", false},
		{"[contains(createArray('a', 1), 1)]", true},
		{"[contains(parameters('obj'), 'NAME')]", true},
		{"[equals('a', 'a')]", true},
		{"[equals('a', 'A')]", false},
		{"[equals(1, json('1.0'))]", true},
		{"[equals(createArray(1, 'x'), createArray(1, 'x'))]", true},
		{"[less(1, 2)]", true},
		{"[greaterOrEquals('b', 'a')]", true},
		{"[lessOrEquals(2, 2)]", true},
		{"[greater(1.5, 1)]", true},
		{"[and(true(), not(false()))]", true},
		{"[or(false(), false())]", false},
		{"[add(-2.5, 3.5)]", 1.0},
		{"[sub(10, -3)]", int64(13)},
		{"[mul(3, 4)]", int64(12)},
		{"[string(createObject('key', 'value'))]", `{"key":"value"}`},
		{"[string(1.5)]", "1.5"},
		{"[json('{\"a\":[1,2]}').a[1]]", int64(2)},
		{"[utcNow()]", "2025-02-20T12:00:00.0000000Z"},
		{"[utcNow('yyyyMMddTHHmmssZ')]", "20250220T120000Z"},
		{"[utcNow('u')]", "2025-02-20 12:00:00Z"},
		{"[addDays(utcNow(), -1)]", "2025-02-19T12:00:00.0000000Z"},
		{"[tryGet(parameters('obj'), 'nested', 'k')]", int64(1)},
		{"[tryGet(parameters('obj'), 'missing', 'k')]", nil},
		{"[null()]", nil},
		{"[coalesce(null(), 'x')]", "x"},
		{"[guid('a', 'b')]", "2d796349-8c7e-55ec-9624-54ece82ed031"},
		{"[guid('x')]", "51c0fe04-91fa-5688-abb4-481ca7437854"},
		{"[uniqueString('test')]", "rbgf3xv4ufgzg"},
		{"[uniqueString('hello', 'world')]", "a7wkljktk6wne"},
		{"[uniqueString('abc')]", "cgtzqvhu4i23s"},
		{"[uniqueString('foo', 'bar', 'baz')]", "xzi4ioaxtmth4"},
		{"[uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg')]", "bmg7c6xu4tw46"},
		{"[ipRangeContains('10.0.0.0-10.0.0.255', '10.0.0.7')]", true},
		{"[format('{0:N0} items', 1234567)]", "1,234,567 items"},
		{"[format('vm{0:000}', 7)]", "vm007"},
		{"[format('{0:#,##0.00}', 1234.5)]", "1,234.50"},
		{"[format('{0:0.##}', 2.5)]", "2.5"},
		{"[format('{0:0.##}', 3)]", "3"},
		{"[format('{0:#.#}', 0.25)]", ".3"},
		{"[format('{0:0%}', 0.256)]", "26%"},
		{"[format('{0:''#''0}', 4)]", "#4"},
		{"[format('{0:00}', -3)]", "-03"},
		{"[padLeft(7, 3, '0')]", "007"},
		{"[indexOf('Straße', 'STRASSE')]", int64(0)},
		{"[lastIndexOf('aXbx', 'x')]", int64(3)},
		{"[base64ToJson(base64('{\"k\":true}')).k]", true},
		{"[items(createObject('b', 2, 'a', 1))[0].key]", "a"},
		{"[union(createObject('a', createObject('x', 1)), createObject('A', createObject('y', 2)))]", map[string]any{"a": map[string]any{"x": int64(1), "y": int64(2)}}},
		{"[intersection(createArray(1, 2, 2, 3), createArray(2, 3))]", []any{int64(2), int64(3)}},
	}
	for _, tt := range tests {
		got, err := EvalString(tt.expr, ec)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if !Equal(got, tt.want) || typeName(got) != typeName(tt.want) {
			t.Errorf("%s = %#v (%s), want %#v (%s)", tt.expr, got, typeName(got), tt.want, typeName(tt.want))
		}
	}
}

// bigPad is one argument that builds a 4 MB string.
const bigPad = "padLeft('', 4000000, ' '), "

func TestEvalReportsErrorsWithPositions(t *testing.T) {
	ec := &EvalContext{Host: testHost}
	tests := []struct {
		expr string
		code string
		pos  int
	}{
		{"[nosuch(1)]", CodeUnknownFunction, 1},
		{"[concat('a', nosuch())]", CodeUnknownFunction, 13},
		{"[toLower(1)]", CodeArgumentType, 1},
		{"[not(1)]", CodeArgumentType, 1},
		{"[if(1, 'a', 'b')]", CodeArgumentType, 1},
		{"[if(true())]", CodeArgumentCount, 1},
		{"[equals(1)]", CodeArgumentCount, 1},
		{"[parameters('obj').missing]", CodeNotFound, 18},
		{"[parameters('items')[5]]", CodeIndexRange, 20},
		{"[parameters('items')['x']]", CodeArgumentType, 20},
		{"['abc'[0]]", CodeArgumentType, 6},
		{"[div(1, 0)]", CodeInvalidArgument, 1},
		{"[add(9223372036854775807, 1)]", CodeInvalidArgument, 1},
		{"[mul(4611686018427387904, 2)]", CodeInvalidArgument, 1},
		{"[substring('abc', 2, 5)]", CodeIndexRange, 1},
		{"[range(0, 10001)]", CodeLimitExceeded, 1},
		{"[padLeft('a', 100000000, 'x')]", CodeLimitExceeded, 1},
		{"[fail()]", CodeHost, 1},
		{"[less('a', 1)]", CodeArgumentType, 1},
		{"[ipRangeContains('10.0.0.0/8', '::1')]", CodeInvalidArgument, 1},
		{"[replace('abc', '', 'x')]", CodeInvalidArgument, 1},
		{"[guid(1)]", CodeArgumentType, 1},
		{"[replace(padLeft('a', 4000, 'a'), 'a', padLeft('b', 4000, 'b'))]", CodeLimitExceeded, 1},
		{"[join(range(0, 10000), padLeft('', 1000, ' '))]", CodeLimitExceeded, 1},
		{"[format('{0}{0}{0}', padLeft('', 2000000, ' '))]", CodeLimitExceeded, 1},
		// The 17th 4 MB string passes the 64 MiB budget; the error points at it.
		{"[createArray(" + strings.Repeat(bigPad, 17) + "1)]", CodeLimitExceeded, len("[createArray(") + 16*len(bigPad)},
	}
	for _, tt := range tests {
		_, err := EvalString(tt.expr, ec)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v, want *Error", tt.expr, err)
			continue
		}
		if e.Code != tt.code || e.Pos != tt.pos {
			t.Errorf("%s: %v (code %s, pos %d), want code %s at %d", tt.expr, e, e.Code, e.Pos, tt.code, tt.pos)
		}
	}
}

func TestEvalStringTreatsLiteralsAsText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"[[not an expression]", "[not an expression]"},
		{"[[", "["},
		{"[concat('a', 'b')]", "ab"},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := EvalString(tt.in, nil)
		if err != nil || got != tt.want {
			t.Errorf("EvalString(%q) = %v, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestHostComesBeforeLibraryAndSeesLowerCaseNames(t *testing.T) {
	var names []string
	ec := &EvalContext{Host: func(name string, args []any) (any, bool, error) {
		names = append(names, name)
		if name == "tolower" {
			return "host", true, nil
		}
		return nil, false, nil
	}}
	got, err := EvalString("[concat(toLower('X'), toUpper('y'))]", ec)
	if err != nil || got != "hostY" {
		t.Fatalf("got %v, %v; want hostY", got, err)
	}
	if strings.Join(names, ",") != "tolower,toupper,concat" {
		t.Errorf("host saw %v", names)
	}
}

func TestCallUsesLibraryCaseInsensitively(t *testing.T) {
	got, err := Call("ToLower", []any{"ABC"}, nil)
	if err != nil || got != "abc" {
		t.Errorf("Call(ToLower) = %v, %v", got, err)
	}
	got, err = Call("if", []any{false, int64(1), int64(2)}, nil)
	if err != nil || !Equal(got, int64(2)) {
		t.Errorf("Call(if) = %v, %v", got, err)
	}
	if _, err := Call("field", []any{"name"}, nil); err == nil {
		t.Error("Call(field) succeeded, but field is a host function")
	}
}

func TestNormalizeProducesValueModel(t *testing.T) {
	var decoded any
	if err := json.Unmarshal([]byte(`{"i": 3, "f": 1.5, "big": 1e30, "a": [1, {"x": 2.0}], "s": "t", "n": null}`), &decoded); err != nil {
		t.Fatal(err)
	}
	got := Normalize(decoded).(map[string]any)
	checks := map[string]any{"i": int64(3), "f": 1.5, "big": 1e30, "s": "t", "n": nil}
	for k, want := range checks {
		if got[k] != want {
			t.Errorf("Normalize: %s = %#v, want %#v", k, got[k], want)
		}
	}
	inner := got["a"].([]any)
	if inner[0] != int64(1) || inner[1].(map[string]any)["x"] != int64(2) {
		t.Errorf("Normalize: nested values %#v", inner)
	}
	if Normalize(json.Number("12")) != int64(12) || Normalize(7) != int64(7) || Normalize(json.Number("0.5")) != 0.5 {
		t.Error("Normalize: scalar conversions")
	}
}

func TestEvalRecoversFromPanicsInHosts(t *testing.T) {
	ec := &EvalContext{Host: func(string, []any) (any, bool, error) { panic("boom") }}
	_, err := EvalString("[f()]", ec)
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "boom") {
		t.Errorf("panic in host gave %v, want an *Error", err)
	}
}

func TestHostErrorsStayIdentifiable(t *testing.T) {
	_, err := EvalString("[concat('a', fail())]", &EvalContext{Host: testHost})
	var e *Error
	if !errors.Is(err, errHostFailure) || !errors.As(err, &e) || e.Code != CodeHost || e.Pos != 13 {
		t.Errorf("host error came back as %v", err)
	}
}

func TestNetworkAndObjectFunctions(t *testing.T) {
	tests := []struct {
		expr string
		want any
	}{
		{"[parseCidr('10.144.0.0/20')]", map[string]any{"network": "10.144.0.0", "netmask": "255.255.240.0", "broadcast": "10.144.15.255", "firstUsable": "10.144.0.1", "lastUsable": "10.144.15.254", "cidr": int64(20)}},
		{"[parseCidr('fdad:3236:5555::/48')]", map[string]any{"network": "fdad:3236:5555::", "netmask": "ffff:ffff:ffff::", "firstUsable": "fdad:3236:5555::", "lastUsable": "fdad:3236:5555:ffff:ffff:ffff:ffff:ffff", "cidr": int64(48)}},
		{"[cidrSubnet('10.144.0.0/20', 24, 3)]", "10.144.3.0/24"},
		{"[cidrSubnet('fdad:3236:5555::/48', 52, 1)]", "fdad:3236:5555:1000::/52"},
		{"[cidrHost('10.144.3.0/24', 0)]", "10.144.3.1"},
		{"[cidrHost('10.144.3.0/24', 253)]", "10.144.3.254"},
		{"[objectKeys(createObject('b', 1, 'a', 2))]", []any{"a", "b"}},
		{"[shallowMerge(createArray(createObject('a', 1, 'n', createObject('x', 1)), createObject('n', createObject('y', 2))))]", map[string]any{"a": int64(1), "n": map[string]any{"y": int64(2)}}},
	}
	for _, tt := range tests {
		got, err := EvalString(tt.expr, nil)
		if err != nil || !Equal(got, tt.want) {
			t.Errorf("%s = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
	for _, bad := range []string{"[cidrHost('10.144.3.0/24', 254)]", "[cidrSubnet('10.144.0.0/20', 19, 0)]", "[cidrSubnet('10.144.0.0/20', 24, 16)]", "[parseCidr('10.0.0.1')]"} {
		if _, err := EvalString(bad, nil); err == nil {
			t.Errorf("%s succeeded, want an error", bad)
		}
	}
}

func TestEvalSurvivesBrokenTrees(t *testing.T) {
	for _, n := range []Node{(*FuncCall)(nil), &Expr{}, &Index{Target: &StringLit{Value: "a"}}} {
		if _, err := Eval(n, nil); err == nil {
			t.Errorf("Eval(%#v) succeeded, want an error", n)
		}
	}
}

func TestEvalSharesTreesAcrossGoroutines(t *testing.T) {
	n, err := Parse("[concat(toLower(parameters('prefix')), '-', string(length(parameters('items'))))]")
	if err != nil {
		t.Fatal(err)
	}
	ec := &EvalContext{Host: testHost}
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 200 {
				v, err := Eval(n, ec)
				if err == nil && v != "pre-2" {
					err = errors.New("unexpected value")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
