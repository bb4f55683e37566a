package cloud_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestDeploymentBadInputIs4xx sends malformed deployment requests: each is
// a 4xx ARM error with the code Azure gives, never a 5xx or a success.
func TestDeploymentBadInputIs4xx(t *testing.T) {
	e := newDeployEnv(t)
	tok := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/rg1/providers/Microsoft.Resources/deployments/d"
	const schema = `"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0"`
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"empty body", "PUT", rg, ``, 400, "InvalidRequestContent"},
		{"array body", "PUT", rg, `[]`, 400, "InvalidRequestContent"},
		{"no properties", "PUT", rg, `{}`, 400, "InvalidRequestContent"},
		{"no mode", "PUT", rg, `{"properties": {"template": {` + schema + `}}}`, 400, "InvalidRequestContent"},
		{"bad mode", "PUT", rg, `{"properties": {"mode": "Partial", "template": {` + schema + `}}}`, 400, "InvalidRequestContent"},
		{"no template", "PUT", rg, `{"properties": {"mode": "Incremental"}}`, 400, "InvalidRequestContent"},
		{"template link uri", "PUT", rg, `{"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}}}`, 400, "InvalidContentLink"},
		{"parameters link", "PUT", rg, `{"properties": {"mode": "Incremental", "template": {` + schema + `}, "parametersLink": {"uri": "https://example.com/p.json"}}}`, 400, "InvalidContentLink"},
		{"template not an object", "PUT", rg, `{"properties": {"mode": "Incremental", "template": "x"}}`, 400, "InvalidRequestContent"},
		{"cycle", "PUT", rg, `{"properties": {"mode": "Incremental", "template": {` + schema + `, "resources": [
			{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "a", "dependsOn": ["b"]},
			{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "b", "dependsOn": ["a"]}]}}}`, 400, "InvalidTemplate"},
		{"bad expression", "POST", rg + "/validate", `{"properties": {"mode": "Incremental", "template": {` + schema + `, "resources": [
			{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "[concat('a', ]"}]}}}`, 400, "InvalidTemplate"},
		{"missing parameter", "POST", rg + "/whatIf", `{"properties": {"mode": "Incremental", "template": {` + schema + `, "parameters": {"p": {"type": "string"}}}}}`, 400, "InvalidTemplate"},
		{"complete at subscription", "PUT", "/subscriptions/" + e.sub + "/providers/Microsoft.Resources/deployments/d", `{"location": "westeurope", "properties": {"mode": "Complete", "template": {` + schema + `}}}`, 400, "InvalidDeploymentMode"},
		{"missing group", "PUT", "/subscriptions/" + e.sub + "/resourceGroups/nope/providers/Microsoft.Resources/deployments/d", `{"properties": {"mode": "Incremental", "template": {` + schema + `}}}`, 404, "ResourceGroupNotFound"},
		{"unknown deployment", "GET", rg + "zzz", ``, 404, "DeploymentNotFound"},
		{"unknown operation status", "GET", rg + "zzz/operationStatuses/1", ``, 404, "OperationNotFound"},
		{"operations of unknown deployment", "GET", rg + "zzz/operations", ``, 404, "DeploymentNotFound"},
		{"export of unknown deployment", "POST", rg + "zzz/exportTemplate", ``, 404, "DeploymentNotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			resp, out := e.do(t, c.method, c.path+"?api-version=2021-04-01", tok, body)
			var env struct{ Error struct{ Code string } }
			_ = json.Unmarshal(out, &env)
			if resp.StatusCode != c.status || env.Error.Code != c.code {
				t.Errorf("%s %s: %d %s, want %d %s\n%s", c.method, c.path, resp.StatusCode, env.Error.Code, c.status, c.code, out)
			}
			if resp.StatusCode >= http.StatusInternalServerError {
				t.Errorf("5xx: %s", out)
			}
		})
	}
}
