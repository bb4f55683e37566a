package interop

import (
	"path/filepath"
	"testing"
)

// TestPythonSDKDeploysATemplate validates, previews and deploys the
// copy-loop quickstart with Python's ResourceManagementClient.deployments.
func TestPythonSDKDeploysATemplate(t *testing.T) {
	t.Parallel()
	survey(t, pyDirect, "deployments: begin_validate", "deployments: begin_what_if", "deployments: begin_create_or_update",
		"deployments: deployment_operations.list")
	py := pythonWith(t, "azure.identity", "azure.mgmt.resource")
	s := serve(t)
	file, err := filepath.Abs(filepath.Join("..", "template", "testdata", "copy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Validated  []string
		WhatIf     []string `json:"what_if"`
		State      string
		Outputs    map[string]struct{ Value []any }
		Operations []string
	}
	runPython(t, s, py, "secret", "deployments.py", &got, "py-deploy", file)
	if len(got.Validated) != 3 || len(got.WhatIf) != 3 || got.WhatIf[0] != "Create" {
		t.Errorf("validate %v, what-if %v", got.Validated, got.WhatIf)
	}
	if got.State != "Succeeded" || len(got.Outputs["ids"].Value) != 2 || len(got.Operations) != 3 {
		t.Errorf("deployment: %+v", got)
	}
}
