package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// loadCorpus reads every built-in definition into memory.
func loadCorpus(b *testing.B) [][]byte {
	b.Helper()
	defs, _ := corpusFiles(b)
	out := make([][]byte, 0, len(defs))
	for _, p := range defs {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// loadCorpusAliases loads the corpus's alias table whole (skipping when
// ../shared is absent).
func loadCorpusAliases(b testing.TB) *AliasTable {
	b.Helper()
	p := requireShared(b, "corpus/aliases/policy-aliases.csv.gz")
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	t, err := LoadAliasesCSV(f)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkCompileCorpus parses and compiles all 5,009 built-in
// definitions; one op is the whole corpus.
func BenchmarkCompileCorpus(b *testing.B) {
	files := loadCorpus(b)
	aliases := loadCorpusAliases(b)
	b.ResetTimer()
	for b.Loop() {
		for _, data := range files {
			if _, err := ParseAndCompile(data, CompileOptions{Aliases: aliases}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(files)), "definitions/op")
}

// syntheticEstate builds n resources of the types the corpus targets
// most, with names, locations, tags and a few properties, from a fixed
// seed.
func syntheticEstate(pols []*Policy, n int) []*Resource {
	counts := map[string]int{}
	for _, p := range pols {
		if p.typeFilter != nil {
			for _, t := range p.typeFilter.exact {
				counts[t]++
			}
		}
	}
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		return counts[types[i]] > counts[types[j]] || counts[types[i]] == counts[types[j]] && types[i] < types[j]
	})
	if len(types) > 60 {
		types = types[:60]
	}
	locations := []string{"eastus", "westeurope", "West US 2", "northeurope", "global"}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*Resource, n)
	for i := range out {
		typ := types[rng.IntN(len(types))]
		name := fmt.Sprintf("res%05d", i)
		doc := map[string]any{
			"id":       "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg" + fmt.Sprint(i%50) + "/providers/" + typ + "/" + name,
			"name":     name,
			"type":     typ,
			"location": locations[rng.IntN(len(locations))],
			"tags":     map[string]any{"env": []string{"prod", "dev", "test"}[rng.IntN(3)], "owner": "team" + fmt.Sprint(rng.IntN(9))},
			"properties": map[string]any{
				"provisioningState":        "Succeeded",
				"publicNetworkAccess":      []string{"Enabled", "Disabled"}[rng.IntN(2)],
				"minimumTlsVersion":        []string{"TLS1_0", "TLS1_2"}[rng.IntN(2)],
				"supportsHttpsTrafficOnly": rng.IntN(2) == 0,
				"networkAcls":              map[string]any{"defaultAction": "Allow", "ipRules": []any{map[string]any{"value": "10.0.0.1"}}},
				"securityRules": []any{
					map[string]any{"properties": map[string]any{"access": "Allow", "direction": "Inbound", "destinationPortRange": "22"}},
				},
			},
		}
		if strings.HasPrefix(strings.ToLower(typ), "microsoft.compute/") {
			doc["kind"] = "Linux"
		}
		out[i] = NewResource(Normalize(doc).(map[string]any))
	}
	return out
}

// BenchmarkEvaluateCorpusEstate evaluates every applicable (resource,
// definition) pair of the corpus against 10,000 synthetic resources; one
// op is one evaluation.
func BenchmarkEvaluateCorpusEstate(b *testing.B) {
	files := loadCorpus(b)
	aliases := loadCorpusAliases(b)
	var pols []*Policy
	for _, data := range files {
		p, err := ParseAndCompile(data, CompileOptions{Aliases: aliases})
		if err != nil {
			b.Fatal(err)
		}
		pols = append(pols, p)
	}
	estate := syntheticEstate(pols, 10000)
	type pair struct {
		p *Policy
		r *Resource
	}
	var pairs []pair
	for _, r := range estate {
		for _, p := range pols {
			if p.AppliesTo(r) {
				pairs = append(pairs, pair{p, r})
			}
		}
	}
	ctx := context.Background()
	opts := EvalOptions{
		ResourceGroup:  map[string]any{"name": "rg1", "location": "eastus", "tags": map[string]any{}},
		Subscription:   map[string]any{"subscriptionId": "00000000-0000-0000-0000-000000000000", "displayName": "bench"},
		RequestContext: map[string]any{"apiVersion": "2023-01-01"},
	}
	states := map[ComplianceState]int{}
	for _, pr := range pairs[:min(len(pairs), 50000)] {
		states[pr.p.Evaluate(ctx, pr.r, opts).State]++
	}
	b.Logf("%d resources x %d definitions: %d applicable pairs; states of the first 50,000: %v", len(estate), len(pols), len(pairs), states)
	runtime.GC() // the set-up's garbage is not the evaluations' cost
	i := 0
	for b.Loop() {
		pr := pairs[i%len(pairs)]
		pr.p.Evaluate(ctx, pr.r, opts)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkEvaluateSimpleRule is the micro benchmark: an allowed
// locations rule with a type gate against one resource.
func BenchmarkEvaluateSimpleRule(b *testing.B) {
	p, err := ParseAndCompile([]byte(`{"properties":{"mode":"Indexed","parameters":{
		"allowed":{"type":"Array","defaultValue":["eastus","westeurope"]}},
		"policyRule":{"if":{"allOf":[
			{"field":"type","equals":"Microsoft.Storage/storageAccounts"},
			{"field":"location","notIn":"[parameters('allowed')]"},
			{"field":"tags['env']","exists":true}]},
		"then":{"effect":"deny"}}}}`), CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	r := NewResource(Normalize(map[string]any{"type": "Microsoft.Storage/storageAccounts", "name": "s1",
		"location": "North Europe", "tags": map[string]any{"env": "prod"}}).(map[string]any))
	ctx := context.Background()
	if got := p.Evaluate(ctx, r, EvalOptions{}); got.Effect != EffectDeny {
		b.Fatalf("want deny, got %+v", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(ctx, r, EvalOptions{})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
