package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// commandExamples are the help examples of commands whose constructor sets
// none, by command path (without the leading "steward "). A command that
// sets its own Example keeps it. TestEveryLeafCommandHasAnExample fails on
// a runnable command that has neither.
var commandExamples = map[string]string{
	"ca print": `steward ca print > steward-ca.pem
steward ca print -o json`,
	"compliance list": `steward compliance list
steward compliance list --filter "IsCompliant eq false" -o json
steward compliance list -g rg-eu --expand PolicyEvaluationDetails`,
	"compliance summarize": `steward compliance summarize
steward compliance summarize -g rg-eu -o json`,
	"compliance trigger": `steward compliance trigger
steward compliance trigger -g rg-eu --no-wait`,
	"env": `eval "$(steward env)"
eval "$(steward env --data ~/steward-data --credential certificate)"
steward env -o json`,
	"group create": `steward group create rg-demo -l westeurope --tags costCenter=cc-001 --tags env=dev`,
	"group delete": `steward group delete rg-demo`,
	"group list":   "steward group list\nsteward group list --tag env=dev -o json",
	"group show":   "steward group show rg-demo -o json",
	"kql": `steward kql 'print x = 1 + 1'
steward kql 'datatable(k:string, v:long)["a",1, "b",2] | summarize sum(v) by k' -o json
steward kql -w ws1 -g rg-eu 'Compliance_CL | take 10'`,
	"logs ingest": `steward logs ingest rows.json -w ws1 -g rg-eu --log-type Compliance
cat rows.json | steward logs ingest - -w ws1 -g rg-eu --log-type Compliance -o json`,
	"logs query": `steward logs query 'Compliance_CL | summarize count() by Compliant_b' -w ws1 -g rg-eu
steward logs query 'Compliance_CL | take 5' -w ws1 -g rg-eu --timespan P1D -o json`,
	"logs workspace create": "steward logs workspace create ws1 -g rg-eu -l westeurope --retention 90",
	"logs workspace delete": "steward logs workspace delete ws1 -g rg-eu",
	"logs workspace list":   "steward logs workspace list\nsteward logs workspace list -g rg-eu -o json",
	"logs workspace show":   "steward logs workspace show ws1 -g rg-eu",
	"policy aliases import": `az provider list --expand resourceTypes/aliases > aliases.json
steward policy aliases import aliases.json`,
	"policy assignment create": `steward policy assignment create eu-only --policy rg-eu \
  --parameters '{"allowed":["westeurope","northeurope"]}'
steward policy assignment create audit-only --policy rg-eu --parameters @params.json \
  --enforcement-mode DoNotEnforce --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/rg-eu`,
	"policy assignment delete": "steward policy assignment delete eu-only",
	"policy assignment list":   "steward policy assignment list\nsteward policy assignment list --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/rg-eu -o json",
	"policy assignment show":   "steward policy assignment show eu-only -o json",
	"policy eval": `steward policy eval --definition examples/policy/storage-secure-transfer.json \
  --resource examples/policy/resources/storage-insecure.json --aliases examples/policy/aliases.json`,
	"policy test": "steward policy test examples/policy\nsteward policy test examples/policy -v -o json",
	"rbac roles list": `steward rbac roles list
steward rbac roles list --state examples/rbac/state.json -o json`,
	"rbac roles show": `steward rbac roles show Reader
steward rbac roles show "Virtual Machine Contributor" -o json`,
	"resource create": `steward resource create -g rg-eu --type Microsoft.Web/sites -n site1 -l westeurope \
  --properties '{"httpsOnly":true}' --tags app=one`,
	"resource delete": "steward resource delete -g rg-eu --type Microsoft.Web/sites -n site1",
	"resource list":   "steward resource list -g rg-eu\nsteward resource list --type Microsoft.Web/sites --tag app=one -o json",
	"resource show":   "steward resource show /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/rg-eu/providers/Microsoft.Web/sites/site1",
	"role assignment create": `steward role assignment create --assignee 00000000-0000-0000-0000-000000000001 --role Reader \
  --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/rg-eu`,
	"role assignment delete": "steward role assignment delete --assignee 00000000-0000-0000-0000-000000000001 --role Reader",
	"role assignment list":   "steward role assignment list\nsteward role assignment list --assignee 00000000-0000-0000-0000-000000000001 -o json",
	"role definition list":   "steward role definition list --custom-role-only\nsteward role definition list --name Reader -o json",
	"role definition show":   "steward role definition show Contributor -o json",
	"serve": `steward serve
steward serve --data ~/steward-data --listen 127.0.0.1:9443
steward serve --store "postgres://steward@db:5432/prod?sslmode=verify-full"`,
	"vault certificate add-credential": "steward vault certificate add-credential --name web --app-id 11111111-2222-3333-4444-555555555555",
	"vault certificate create":         "steward vault certificate create --name web --subject CN=web --validity 6",
	"vault certificate delete":         "steward vault certificate delete --name web",
	"vault certificate download":       "steward vault certificate download --name web --file web.pem",
	"vault certificate import":         "steward vault certificate import --name web --file web.pfx --password secret",
	"vault certificate list":           "steward vault certificate list -o json",
	"vault certificate pending":        "steward vault certificate pending --name web",
	"vault certificate purge":          "steward vault certificate purge --name web",
	"vault certificate recover":        "steward vault certificate recover --name web",
	"vault certificate show":           "steward vault certificate show --name web -o json",
	"vault key create":                 "steward vault key create --name signer --kty EC --curve P-256\nsteward vault key create --name wrap --kty RSA --size 3072",
	"vault key delete":                 "steward vault key delete --name signer",
	"vault key list":                   "steward vault key list",
	"vault key list-versions":          "steward vault key list-versions --name signer",
	"vault key purge":                  "steward vault key purge --name signer",
	"vault key recover":                "steward vault key recover --name signer",
	"vault key rotate":                 "steward vault key rotate --name signer",
	"vault key show":                   "steward vault key show --name signer -o json",
	"vault key sign":                   "steward vault key sign --name signer --algorithm ES256 --file release.tar.gz",
	"vault root-key retire":            "steward vault root-key retire",
	"vault root-key rotate":            "steward vault root-key rotate",
	"vault root-key rotate-kek":        "steward vault root-key rotate-kek",
	"vault secret delete":              "steward vault secret delete --name db-password",
	"vault secret list":                "steward vault secret list\nsteward vault secret list --vault-name team-kv -o json",
	"vault secret list-deleted":        "steward vault secret list-deleted",
	"vault secret list-versions":       "steward vault secret list-versions --name db-password",
	"vault secret purge":               "steward vault secret purge --name db-password",
	"vault secret recover":             "steward vault secret recover --name db-password",
	"vault secret set":                 "steward vault secret set --name db-password --value 's3cr3t'\nsteward vault secret set --vault-name team-kv --name api-key --file key.txt --tags env=dev",
	"vault secret show":                "steward vault secret show --name db-password -o json",
}

// applyExamples gives each command of the tree without an Example the
// one commandExamples holds for it, indented as cobra prints examples.
func applyExamples(c *cobra.Command) {
	for _, sub := range c.Commands() {
		applyExamples(sub)
	}
	if c.Example != "" {
		return
	}
	path := strings.TrimPrefix(c.CommandPath(), "steward ")
	if ex, ok := commandExamples[path]; ok {
		c.Example = "  " + strings.ReplaceAll(ex, "\n", "\n  ")
	}
}
