package cloud_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// TestTemplateSpecDeployment publishes a template spec version whose main
// template links an artifact by relativePath, which links another
// relative to itself, and deploys it with the SDK by templateLink.id.
func TestTemplateSpecDeployment(t *testing.T) {
	e := newDeployEnv(t)
	ctx := context.Background()
	tok := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/rg1"
	spec := rg + "/providers/Microsoft.Resources/templateSpecs/network"
	const api = "?api-version=2022-02-01"
	const schema = `"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0"`
	put := func(path, body string, status int, code string) {
		t.Helper()
		resp, out := e.do(t, http.MethodPut, path+api, tok, []byte(body))
		var env struct{ Error struct{ Code string } }
		_ = json.Unmarshal(out, &env)
		if resp.StatusCode != status || env.Error.Code != code {
			t.Fatalf("PUT %s: %d %s, want %d %s\n%s", path, resp.StatusCode, env.Error.Code, status, code, out)
		}
	}
	version := `{"location": "westeurope", "properties": {
		"mainTemplate": {` + schema + `, "parameters": {"nsgName": {"type": "string"}}, "resources": [
			{"type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "nsg",
			 "properties": {"mode": "Incremental", "templateLink": {"relativePath": "artifacts/nsg.json"},
			   "parameters": {"name": {"value": "[parameters('nsgName')]"}}}}],
			"outputs": {"nsgId": {"type": "string", "value": "[reference('nsg').outputs.id.value]"}}},
		"linkedTemplates": [
			{"path": "artifacts/nsg.json", "template": {` + schema + `, "parameters": {"name": {"type": "string"}}, "resources": [
				{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "[parameters('name')]", "location": "westeurope"},
				{"type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "tags",
				 "properties": {"mode": "Incremental", "templateLink": {"relativePath": "common/empty.json"}}}],
				"outputs": {"id": {"type": "string", "value": "[resourceId('Microsoft.Network/networkSecurityGroups', parameters('name'))]"}}}},
			{"path": "artifacts/common/empty.json", "template": {` + schema + `, "resources": []}}]}}`
	// A version needs its template spec.
	put(spec+"/versions/1.0", version, http.StatusNotFound, "ParentResourceNotFound")
	put(spec, `{"location": "westeurope", "properties": {"description": "NSG"}}`, http.StatusCreated, "")
	put(spec+"/versions/1.0", version, http.StatusCreated, "")
	put(spec+"/versions/bad", `{"location": "westeurope", "properties": {}}`, http.StatusBadRequest, "InvalidRequestContent")
	put(spec+"/versions/escape", `{"location": "westeurope", "properties": {"mainTemplate": {`+schema+`}, "linkedTemplates": [{"path": "../x.json", "template": {}}]}}`, http.StatusBadRequest, "InvalidRequestContent")

	p, err := e.deps.BeginCreateOrUpdate(ctx, "rg1", "from-spec", armresources.Deployment{Properties: &armresources.DeploymentProperties{
		TemplateLink: &armresources.TemplateLink{ID: to.Ptr(spec + "/versions/1.0")},
		Parameters:   map[string]any{"nsgName": map[string]any{"value": "spec-nsg"}},
		Mode:         to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := rg + "/providers/Microsoft.Network/networkSecurityGroups/spec-nsg"
	if got := r.Properties.Outputs.(map[string]any)["nsgId"].(map[string]any)["value"]; got != want {
		t.Errorf("output nsgId = %v, want %s", got, want)
	}
	if r.Properties.TemplateLink == nil || r.Properties.TemplateLink.ID == nil || *r.Properties.TemplateLink.ID != spec+"/versions/1.0" {
		t.Errorf("deployment's templateLink = %+v", r.Properties.TemplateLink)
	}
	if _, err := e.res.GetByID(ctx, want, "2022-07-01", nil); err != nil {
		t.Errorf("the NSG of the linked template: %v", err)
	}

	// A missing version is a 404; a URI is refused (no outbound traffic).
	for _, c := range []struct {
		link   *armresources.TemplateLink
		status int
		code   string
	}{
		{&armresources.TemplateLink{ID: to.Ptr(spec + "/versions/9.9")}, http.StatusNotFound, "TemplateSpecVersionNotFound"},
		{&armresources.TemplateLink{ID: to.Ptr(rg + "/providers/Microsoft.Network/networkSecurityGroups/spec-nsg")}, http.StatusBadRequest, "InvalidTemplateSpecId"},
		{&armresources.TemplateLink{URI: to.Ptr("https://raw.githubusercontent.com/x/y/main/azuredeploy.json")}, http.StatusBadRequest, "InvalidContentLink"},
	} {
		_, err := e.deps.BeginCreateOrUpdate(ctx, "rg1", "bad-link", armresources.Deployment{Properties: &armresources.DeploymentProperties{
			TemplateLink: c.link, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
		if !isCode(err, c.status, c.code) {
			t.Errorf("link %+v: %v, want %d %s", c.link, err, c.status, c.code)
		}
	}
}
