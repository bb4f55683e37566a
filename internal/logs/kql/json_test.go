package kql

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeJSONValues(t *testing.T) {
	bag := func(kv ...any) *Bag {
		b := NewBag()
		for i := 0; i < len(kv); i += 2 {
			b.Set(kv[i].(string), kv[i+1])
		}
		return b
	}
	keep := JSONOptions{KeepNumbers: true}
	tests := []struct {
		name string
		in   string
		opts JSONOptions
		want any
	}{
		{"integer is int64", `42`, JSONOptions{}, int64(42)},
		{"fraction is float64", `1.5`, JSONOptions{}, 1.5},
		{"integer past int64 is float64", `9223372036854775808`, JSONOptions{}, 9223372036854775808.0},
		{"integral real keeps being a real", `1.0`, JSONOptions{}, 1.0},
		{"KeepNumbers keeps the text", `1.50`, keep, json.Number("1.50")},
		{"KeepNumbers keeps exponents", `1e400`, keep, json.Number("1e400")},
		{"scalars", `[true,null,"s"]`, JSONOptions{}, []any{true, nil, "s"}},
		{"empty containers", `[[],{}]`, JSONOptions{}, []any{[]any{}, NewBag()}},
		{"object keys keep document order", `{"b":1,"a":{"z":2,"y":3}}`, JSONOptions{},
			bag("b", int64(1), "a", bag("z", int64(2), "y", int64(3)))},
		{"a repeated key keeps its first place and last value", `{"a":1,"b":2,"a":3}`, JSONOptions{},
			bag("a", int64(3), "b", int64(2))},
		{"white space around the value", " \n{} \t", JSONOptions{}, NewBag()},
		{"nesting at MaxDepth", strings.Repeat("[", 3) + strings.Repeat("]", 3), JSONOptions{MaxDepth: 2},
			[]any{[]any{[]any{}}}},
		{"no depth limit by default", strings.Repeat("[", 500) + strings.Repeat("]", 500), JSONOptions{}, nested(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON(strings.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeJSON(%.40q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

// nested returns n arrays, each the only element of the one outside it.
func nested(n int) any {
	v := []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct {
		name, in string
		opts     JSONOptions
		want     string
	}{
		{"trailing value", `{} {}`, JSONOptions{}, "trailing data after the JSON value"},
		{"nesting past MaxDepth", strings.Repeat("[", 4) + strings.Repeat("]", 4), JSONOptions{MaxDepth: 2}, "nested deeper than 2 levels"},
		{"number out of range", `1e400`, JSONOptions{}, "out of range"},
		{"empty input", ``, JSONOptions{}, "EOF"},
		{"unterminated object", `{"a":1`, JSONOptions{}, "EOF"},
		{"missing value", `{"a":}`, JSONOptions{}, "invalid character"},
		{"closing bracket first", `]`, JSONOptions{}, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJSON(strings.NewReader(tt.in), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeJSON(%.40q) error = %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseJSONIsDecodeJSONWithoutOptions(t *testing.T) {
	for _, in := range []string{`{"a":[1,2.5,"x"]}`, `1e400`, `[1] 2`} {
		a, aerr := ParseJSON(in)
		b, berr := DecodeJSON(strings.NewReader(in), JSONOptions{})
		if !reflect.DeepEqual(a, b) || (aerr == nil) != (berr == nil) {
			t.Errorf("%q: ParseJSON = %v, %v; DecodeJSON = %v, %v", in, a, aerr, b, berr)
		}
	}
}
