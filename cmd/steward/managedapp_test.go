package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestManagedAppCommands(t *testing.T) {
	dir, s := serveCloud(t, serveServices(policyproviderOptions{}, nil)...)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	defID := sub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/def1"
	tmpl := "../../examples/managedapp/mainTemplate.json"
	steps := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"group", "create", "offers", "-l", "westeurope"}, exitOK, nil},
		{[]string{"group", "create", "apps", "-l", "westeurope"}, exitOK, nil},
		{[]string{"managedapp", "definition", "create", "def1", "-g", "offers", "-l", "westeurope", "--main-template", tmpl}, exitUsage, []string{"--lock-level is required"}},
		{[]string{"managedapp", "definition", "create", "def1", "-g", "offers", "-l", "westeurope", "--lock-level", "Frozen", "--main-template", tmpl},
			exitUsage, []string{"InvalidRequestContent", "lockLevel"}},
		{[]string{"managedapp", "definition", "create", "def1", "-g", "offers", "-l", "westeurope", "--lock-level", "ReadOnly", "--main-template", tmpl,
			"--authorizations", "not-a-pair"}, exitUsage, []string{"principalObjectId:roleDefinitionId"}},
		{[]string{"managedapp", "definition", "create", "def1", "-g", "offers", "-l", "westeurope", "--lock-level", "ReadOnly", "--main-template", tmpl,
			"--create-ui-definition", "../../examples/managedapp/createUiDefinition.json", "--display-name", "Def one",
			"--authorizations", "6a4f7bf0-2b7c-4b0e-9a56-0d1f1f5b8f11:b24988ac-6180-42a0-ab88-20f7382dd24c"}, exitOK, []string{"def1", "ReadOnly", "Def one"}},
		{[]string{"managedapp", "definition", "list", "-o", "json"}, exitOK, []string{`"lockLevel": "ReadOnly"`, `"createUiDefinition"`, `"mode": "Managed"`}},
		{[]string{"managedapp", "definition", "create", "def1", "-g", "offers", "-l", "westeurope", "--lock-level", "ReadOnly", "--main-template", tmpl,
			"--display-name", "Def one, updated"}, exitOK, []string{"Def one, updated"}},
		{[]string{"managedapp", "definition", "create", "def1", "-g", "offers", "-l", "westeurope", "--lock-level", "ReadOnly", "--main-template", tmpl,
			"--management-mode", "Unmanaged"}, exitNo, []string{"ApplicationDefinitionApplicationManagementPolicyLockConflict"}},
		{[]string{"managedapp", "create", "app1", "-g", "apps", "-l", "westeurope"}, exitUsage, []string{"--definition-id is required"}},
		{[]string{"managedapp", "create", "app1", "-g", "apps", "-l", "westeurope", "-d", defID, "-m", "apps"}, exitUsage, []string{"InvalidRequestContent"}},
		{[]string{"managedapp", "create", "app1", "-g", "apps", "-l", "westeurope", "-d", defID, "-m", "mrg-app1",
			"--parameters", `{"nsgName":{"value":"nsg1"}}`, "--tags", "team=a"}, exitOK, []string{"app1", "Succeeded", "mrg-app1"}},
		{[]string{"managedapp", "create", "app2", "-g", "apps", "-l", "westeurope", "-d", defID, "-m", "mrg-app1"}, exitNo, []string{"ManagedResourceGroupAlreadyExists"}},
		{[]string{"managedapp", "list", "-g", "apps"}, exitOK, []string{"app1", "ServiceCatalog", "Succeeded", "mrg-app1"}},
		{[]string{"managedapp", "show", "app1", "-g", "apps", "-o", "json"}, exitOK, []string{`"managedResourceGroupId"`, "nsg1", `"team": "a"`}},
		{[]string{"managedapp", "delete", "app1", "-g", "apps", "--yes", "-o", "json"}, exitOK, []string{`"result": "deleted"`}},
		{[]string{"managedapp", "show", "app1", "-g", "apps"}, exitNo, []string{"ResourceNotFound"}},
		{[]string{"group", "show", "mrg-app1"}, exitNo, []string{"ResourceGroupNotFound"}},
		{[]string{"managedapp", "definition", "delete", "def1", "-g", "offers", "--yes"}, exitOK, []string{"deleted"}},
		{[]string{"managedapp", "definition", "show", "def1", "-g", "offers"}, exitNo, []string{"ResourceNotFound"}},
	}
	for _, st := range steps {
		out, err := runCLI(t, append(st.args, "--data", dir)...)
		msg, code := classifyError(err)
		if code != st.code {
			t.Errorf("steward %s: exit %d, want %d\n%s%s", strings.Join(st.args, " "), code, st.code, out, msg)
			continue
		}
		for _, w := range st.want {
			if !strings.Contains(out+msg, w) {
				t.Errorf("steward %s: output lacks %q\n%s%s", strings.Join(st.args, " "), w, out, msg)
			}
		}
		if code == exitOK && hasJSONFlag(st.args) && !json.Valid([]byte(out)) {
			t.Errorf("steward %s -o json: not JSON:\n%s", strings.Join(st.args, " "), out)
		}
	}
}
