package armexpr

import (
	"testing"
	"time"
)

// typicalExpressions are shapes that recur in the built-in policies.
var typicalExpressions = []struct{ name, expr string }{
	{"parameters", "[parameters('effect')]"},
	{"field", "[field('name')]"},
	{"concat", "[concat(parameters('prefix'), '-', field('name'))]"},
	{"if_empty", "[if(empty(field('tags')), 'none', first(split(field('name'), '-')))]"},
	{"tryGet", "[tryGet(requestContext().identity, 'idtyp')]"},
	{"toLower", "[toLower(field('location'))]"},
	{"addDays", "[addDays(utcNow(), -30)]"},
	{"ipRange", "[ipRangeContains('10.0.0.0/8', field('properties.addressPrefix'))]"},
}

func benchHost(name string, args []any) (any, bool, error) {
	switch name {
	case "parameters":
		return "audit", true, nil
	case "field":
		switch args[0] {
		case "tags":
			return map[string]any{"env": "prod"}, true, nil
		case "properties.addressPrefix":
			return "10.1.0.0/16", true, nil
		}
		return "vm-web-01", true, nil
	case "requestcontext":
		return map[string]any{"apiVersion": "2024-01-01", "identity": map[string]any{"idtyp": "user"}}, true, nil
	}
	return nil, false, nil
}

func BenchmarkParse(b *testing.B) {
	for _, tt := range typicalExpressions {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(tt.expr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseCorpus parses every distinct expression of the policy
// corpus once per iteration; ns/op divided by the count is per expression.
func BenchmarkParseCorpus(b *testing.B) {
	exprs := corpusExpressions(b)
	if exprs == nil {
		b.Skip("../shared is absent: the policy corpus is not available; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)")
	}
	b.ReportMetric(float64(len(exprs)), "exprs/op")
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range exprs {
			if _, err := Parse(s); err != nil && s != "[]" {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEval(b *testing.B) {
	ec := &EvalContext{Now: time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC), Host: benchHost}
	for _, tt := range typicalExpressions {
		n, err := Parse(tt.expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Eval(n, ec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
