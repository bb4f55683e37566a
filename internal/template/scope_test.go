package template

import (
	"encoding/json"
	"testing"
)

// TestNestedExpressionScope follows Microsoft's table of function
// resolution in scopes (learn.microsoft.com, "ARM template functions in
// deployment scopes"): in a nested template targeting another resource
// group, resourceGroup() and subscription() answer for the parent's group
// with the default (outer) scope and for the target with inner scope;
// resourceId() without a group follows; the nested resources deploy to
// the target group either way.
func TestNestedExpressionScope(t *testing.T) {
	const other = "00000000-0000-0000-0000-000000000002"
	nested := func(name, scope, rg, sub string) map[string]any {
		props := map[string]any{"mode": "Incremental", "template": map[string]any{
			"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
			"contentVersion": "1.0.0.0",
			"resources": []any{map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01",
				"name": "nsg-" + name, "location": "westeurope", "tags": map[string]any{"rg": "[resourceGroup().name]"}}},
			"outputs": map[string]any{
				"rg":  map[string]any{"type": "string", "value": "[resourceGroup().name]"},
				"sub": map[string]any{"type": "string", "value": "[subscription().subscriptionId]"},
				"id":  map[string]any{"type": "string", "value": "[resourceId('Microsoft.Network/networkSecurityGroups', 'x')]"},
			}}}
		if scope != "" {
			props["expressionEvaluationOptions"] = map[string]any{"scope": scope}
		}
		d := map[string]any{"type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": name,
			"resourceGroup": rg, "properties": props}
		if sub != "" {
			d["subscriptionId"] = sub
		}
		return d
	}
	out := func(name, key string) map[string]any {
		return map[string]any{"type": "string", "value": "[reference('" + name + "').outputs." + key + ".value]"}
	}
	doc := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"resources": []any{nested("defaultScope", "", "inlineGroup", ""), nested("outerScope", "outer", "inlineGroup", ""),
			nested("innerScope", "inner", "inlineGroup", ""), nested("otherSubOuter", "", "remoteGroup", other),
			nested("otherSubInner", "inner", "remoteGroup", other)},
		"outputs": map[string]any{},
	}
	outs := doc["outputs"].(map[string]any)
	for _, n := range []string{"defaultScope", "outerScope", "innerScope", "otherSubOuter", "otherSubInner"} {
		for _, k := range []string{"rg", "sub", "id"} {
			outs[n+"_"+k] = out(n, k)
		}
	}
	b, _ := json.Marshal(doc)
	tm, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Expand(tm, Options{Scope: testScope, DeploymentName: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	const sub = "00000000-0000-0000-0000-000000000001"
	want := map[string][3]string{ // rg, subscription, resourceId's group
		"defaultScope":  {"rg1", sub, "/subscriptions/" + sub + "/resourceGroups/rg1"},
		"outerScope":    {"rg1", sub, "/subscriptions/" + sub + "/resourceGroups/rg1"},
		"innerScope":    {"inlineGroup", sub, "/subscriptions/" + sub + "/resourceGroups/inlineGroup"},
		"otherSubOuter": {"rg1", sub, "/subscriptions/" + sub + "/resourceGroups/rg1"},
		"otherSubInner": {"remoteGroup", other, "/subscriptions/" + other + "/resourceGroups/remoteGroup"},
	}
	for n, w := range want {
		get := func(k string) any { return res.Outputs[n+"_"+k].(map[string]any)["value"] }
		if get("rg") != w[0] || get("sub") != w[1] || get("id") != w[2]+"/providers/Microsoft.Network/networkSecurityGroups/x" {
			t.Errorf("%s: resourceGroup().name = %v, subscription().subscriptionId = %v, resourceId = %v; want %v", n, get("rg"), get("sub"), get("id"), w)
		}
	}
	// The resources deploy to each nested deployment's target group.
	targets := map[string]string{
		"nsg-defaultScope":  "/subscriptions/" + sub + "/resourceGroups/inlineGroup",
		"nsg-outerScope":    "/subscriptions/" + sub + "/resourceGroups/inlineGroup",
		"nsg-innerScope":    "/subscriptions/" + sub + "/resourceGroups/inlineGroup",
		"nsg-otherSubOuter": "/subscriptions/" + other + "/resourceGroups/remoteGroup",
		"nsg-otherSubInner": "/subscriptions/" + other + "/resourceGroups/remoteGroup",
	}
	seen := 0
	for _, r := range res.Resources {
		if want, ok := targets[r.Name]; ok {
			seen++
			if r.ID != want+"/providers/Microsoft.Network/networkSecurityGroups/"+r.Name {
				t.Errorf("%s deployed as %s, want it in %s", r.Name, r.ID, want)
			}
			wantTag := "rg1"
			if r.Name == "nsg-innerScope" {
				wantTag = "inlineGroup"
			} else if r.Name == "nsg-otherSubInner" {
				wantTag = "remoteGroup"
			}
			if tag := r.Body["tags"].(map[string]any)["rg"]; tag != wantTag {
				t.Errorf("%s: tag from resourceGroup().name = %v, want %s", r.Name, tag, wantTag)
			}
		}
	}
	if seen != len(targets) {
		t.Errorf("saw %d nested resources, want %d", seen, len(targets))
	}
}

// TestLinkedTemplateScope: a template linked by relativePath resolves
// resourceGroup() to its own target group and takes parameters, without
// expressionEvaluationOptions (Microsoft's table: linked, "Sub resource
// group").
func TestLinkedTemplateScope(t *testing.T) {
	linked := []byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
		"parameters": {"prefix": {"type": "string"}},
		"outputs": {"rg": {"type": "string", "value": "[concat(parameters('prefix'), resourceGroup().name)]"}}}`)
	main := []byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
		"resources": [{"type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "linked", "resourceGroup": "linkedGroup",
			"properties": {"mode": "Incremental", "templateLink": {"relativePath": "linked.json"}, "parameters": {"prefix": {"value": "[concat('i', 'n ')]"}}}}],
		"outputs": {"rg": {"type": "string", "value": "[reference('linked').outputs.rg.value]"}}}`)
	tm, err := Parse(main)
	if err != nil {
		t.Fatal(err)
	}
	tm.File = "main.json"
	res, err := Expand(tm, Options{Scope: testScope, DeploymentName: "parent", Link: func(from, rel string) (*Template, error) {
		return Parse(linked)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs["rg"].(map[string]any)["value"]; got != "in linkedGroup" {
		t.Errorf("linked template's resourceGroup().name = %v, want its own target linkedGroup", got)
	}
}
