package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/armexpr"
)

// Effect details tolerate functions rules may not use: built-ins such as
// 69f5d115 name their related resource with
// uniqueString(subscription().subscriptionId). That name depends on the
// subscription, so it must not be folded at compile time.
func TestDetailsWithUniqueStringOfSubscriptionAreEvaluatedPerSubscription(t *testing.T) {
	p := mustCompile(t, `{"if":{"field":"type","equals":"Microsoft.Network/virtualNetworks"},
		"then":{"effect":"auditIfNotExists","details":{"type":"Microsoft.OperationalInsights/workspaces",
		"name":"[concat('ws', uniqueString(subscription().subscriptionId))]"}}}`, CompileOptions{})
	res := resource(t, map[string]any{"type": "Microsoft.Network/virtualNetworks", "name": "v"})
	names := map[string]string{}
	for _, sub := range []string{"sub-a", "sub-b"} {
		got := p.Evaluate(context.Background(), res, EvalOptions{Subscription: map[string]any{"subscriptionId": sub}})
		if got.Err != nil {
			t.Fatalf("subscription %s: %v", sub, got.Err)
		}
		want, err := armexpr.Call("uniqueString", []any{sub}, nil)
		if err != nil {
			t.Fatal(err)
		}
		names[sub] = fmt.Sprint(detailsName(got.Details))
		if names[sub] != "ws"+want.(string) {
			t.Errorf("subscription %s: details name %q, want %q", sub, names[sub], "ws"+want.(string))
		}
	}
}

// detailsName digs the evaluated name out of a result's details, whatever
// concrete type the engine uses for them.
func detailsName(d any) any {
	b, _ := json.Marshal(d)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k, v := range m {
		if strings.EqualFold(k, "name") {
			return v
		}
	}
	return nil
}

func TestAnalyzeExprKeepsClassifyingAfterDisallowedFunction(t *testing.T) {
	n, err := armexpr.Parse("[concat(resourceId('a', 'b'), subscription().subscriptionId, parameters('p'))]")
	if err != nil {
		t.Fatal(err)
	}
	info, err := analyzeExpr(n)
	if err == nil {
		t.Error("resourceId was accepted in a policy expression")
	}
	if !info.usesContext || !info.usesParams {
		t.Errorf("info = %+v: the calls after the disallowed function were not recorded", info)
	}
}
