package policy

import (
	"context"
	"errors"
	"testing"
)

func TestMutate(t *testing.T) {
	base := map[string]any{"type": "Microsoft.Storage/storageAccounts", "location": "westeurope",
		"tags":       map[string]any{"Env": "dev", "old": "x"},
		"properties": map[string]any{"rules": []any{map[string]any{"a": 1}}, "tls": "TLS1_0"}}
	tests := []struct {
		name     string
		then     string
		check    func(doc map[string]any) bool
		conflict bool
	}{
		{"modify addOrReplace tag keeps existing spelling",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"tags['env']","value":"prod"}]}}`,
			func(d map[string]any) bool { return d["tags"].(map[string]any)["Env"] == "prod" }, false},
		{"modify add does not replace",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"add","field":"tags.env","value":"prod"}]}}`,
			func(d map[string]any) bool { return d["tags"].(map[string]any)["Env"] == "dev" }, false},
		{"modify remove tag",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"remove","field":"tags.old"}]}}`,
			func(d map[string]any) bool { _, ok := d["tags"].(map[string]any)["old"]; return !ok }, false},
		{"false condition skips the operation",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"tags.new","value":"v","condition":"[equals(field('location'), 'eastus')]"}]}}`,
			func(d map[string]any) bool { _, ok := d["tags"].(map[string]any)["new"]; return !ok }, false},
		{"true condition applies the operation",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"tags.new","value":"v","condition":"[equals(field('location'), 'westeurope')]"}]}}`,
			func(d map[string]any) bool { return d["tags"].(map[string]any)["new"] == "v" }, false},
		{"remove of a property conflicts",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"conflictEffect":"audit","operations":[{"operation":"remove","field":"properties.tls"}]}}`,
			nil, true},
		{"modify addOrReplace on [*] replaces members",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"properties.rules[*]","value":{"b":2}}]}}`,
			func(d map[string]any) bool {
				r := d["properties"].(map[string]any)["rules"].([]any)
				return len(r) == 1 && r[0].(map[string]any)["b"] == int64(2)
			}, false},
		{"modify on [*].p sets every member",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"properties.rules[*].a","value":5}]}}`,
			func(d map[string]any) bool {
				return d["properties"].(map[string]any)["rules"].([]any)[0].(map[string]any)["a"] == int64(5)
			}, false},
		{"modify a tag whose name holds a dot sets that tag, not a nested one",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"add","field":"tags['cost.center']","value":"42"}]}}`,
			func(d map[string]any) bool { return d["tags"].(map[string]any)["cost.center"] == "42" }, false},
		{"modify a field built by an expression from the resource",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"[concat('tags[', field('location'), '.zone]')]","value":"1"}]}}`,
			func(d map[string]any) bool { return d["tags"].(map[string]any)["westeurope.zone"] == "1" }, false},
		{"modify a property whose name holds hyphens and a dot",
			`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"properties.network-acls['log.level']","value":"debug"}]}}`,
			func(d map[string]any) bool {
				return d["properties"].(map[string]any)["network-acls"].(map[string]any)["log.level"] == "debug"
			}, false},
		{"append to a dotted tag built by an expression",
			`{"effect":"append","details":[{"field":"[concat('tags[''', 'a.b', ''']')]","value":"v"}]}`,
			func(d map[string]any) bool { return d["tags"].(map[string]any)["a.b"] == "v" }, false},
		{"append to [*] adds a member",
			`{"effect":"append","details":[{"field":"properties.rules[*]","value":{"c":3}}]}`,
			func(d map[string]any) bool { return len(d["properties"].(map[string]any)["rules"].([]any)) == 2 }, false},
		{"append sets a missing property",
			`{"effect":"append","details":[{"field":"properties.https","value":true}]}`,
			func(d map[string]any) bool { return d["properties"].(map[string]any)["https"] == true }, false},
		{"append over a different value conflicts",
			`{"effect":"append","details":[{"field":"properties.tls","value":"TLS1_2"}]}`,
			nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, `{"if":{"field":"type","equals":"Microsoft.Storage/storageAccounts"},"then":`+tt.then+`}`, CompileOptions{})
			res := resource(t, deepCopy(base).(map[string]any))
			r := p.Evaluate(context.Background(), res, EvalOptions{})
			if !r.Matched {
				t.Fatalf("rule did not match: %+v", r)
			}
			doc, err := p.Mutate(context.Background(), res, r, EvalOptions{})
			var ce *ConflictError
			if tt.conflict {
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a conflict", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(doc) {
				t.Errorf("document after mutation: %v", doc)
			}
			if res.Document()["tags"].(map[string]any)["Env"] != "dev" {
				t.Error("Mutate changed the original document")
			}
		})
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"})
	want := "  a\n- b\n+ x\n  c\n+ d\n"
	if got != want {
		t.Errorf("lineDiff:\n%s\nwant:\n%s", got, want)
	}
}

func TestDetailsVocabulary(t *testing.T) {
	for _, tt := range []struct {
		details string
		ok      bool
	}{
		{`{"conflictEffect":"Audit","operations":[]}`, true},
		{`{"conflictEffect":"block","operations":[]}`, false},
		{`{"type":"x","existenceScope":"subscription","evaluationDelay":"PT10M"}`, true},
		{`{"type":"x","existenceScope":"tenant"}`, false},
		{`{"type":"x","evaluationDelay":"later"}`, false},
		{`{"type":"x","evaluationDelay":"[parameters('delay')]"}`, true},
	} {
		_, err := ParseAndCompile([]byte(`{"if":{"field":"type","equals":"x"},"then":{"effect":"audit","details":`+tt.details+`}}`), CompileOptions{})
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.details, err, tt.ok)
		}
	}
}
