# Shared by the bench scripts (sourced, not run).

# logs_setup NAME prepares Logs Ingestion as the bootstrap administrator,
# with the caller's st (steward CLI) and c (curl with the ARM token)
# functions and $base, $sub and $oid: a resource group named NAME in lower
# case, a workspace ws in it with a table NAME_CL (TimeGenerated, Resource,
# Value), a data collection rule with the stream Custom-NAME into that
# table, and Monitoring Metrics Publisher for the administrator on the
# group. It sets rg, ws, cust (the workspace's customer ID) and dcr (the
# rule's immutable ID).
logs_setup() {
  local name=$1 group=${1,,}
  local cols='[{"name":"TimeGenerated","type":"datetime"},{"name":"Resource","type":"string"},{"name":"Value","type":"int"}]'
  rg=/subscriptions/$sub/resourceGroups/$group
  c -X PUT "$base$rg?api-version=2022-09-01" -d '{"location":"westeurope"}' >/dev/null
  st logs workspace create ws -g "$group" -l westeurope >/dev/null
  ws=$rg/providers/Microsoft.OperationalInsights/workspaces/ws
  cust=$(c "$base$ws?api-version=2022-10-01" | python3 -c 'import json,sys; print(json.load(sys.stdin)["properties"]["customerId"])')
  c -X PUT "$base$ws/tables/${name}_CL?api-version=2022-10-01" \
    -d '{"properties":{"schema":{"name":"'"${name}_CL"'","columns":'"$cols"'}}}' >/dev/null
  dcr=$(c -X PUT "$base$rg/providers/Microsoft.Insights/dataCollectionRules/$group?api-version=2022-06-01" -d '{"location":"westeurope","properties":{
    "streamDeclarations":{"Custom-'"$name"'":{"columns":'"$cols"'}},
    "destinations":{"logAnalytics":[{"name":"ws","workspaceResourceId":"'"$ws"'"}]},
    "dataFlows":[{"streams":["Custom-'"$name"'"],"destinations":["ws"],"outputStream":"Custom-'"${name}_CL"'"}]}}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["properties"]["immutableId"])')
  st role assignment create --assignee "$oid" --role "Monitoring Metrics Publisher" --scope "$rg" >/dev/null
  sleep 3 # the grant reaches every replica (notification, or the 2 s poll)
}

# vending_setup prepares vending for scripts/vending-load.sh and
# bench/scaleout-load.sh, with the caller's st, $work, $sub, $tenant, $app, $oid and storeflag (the --store
# flag, empty on SQLite): the execution context is the administrator's
# application signing in with a non-exportable certificate (exec) of the
# default vault, which the vending internal identity may use; the catalog
# holds $sub (tag Owner required) and the administrator may request groups
# in it (cost center cc1, environment dev, westeurope). It sets vtok, a
# token for api://steward-vending.
vending_setup() {
  local internal
  st vault certificate create --name exec --subject CN=vending-exec --exportable=false >/dev/null
  st vault certificate add-credential --name exec --app-id "$app" "${storeflag[@]}" >/dev/null
  st rg options >/dev/null 2>&1 || true # mounts the catalog, creating the vending identities
  internal=$(st identity sp list -o json | python3 -c "
import json,sys
for sp in json.load(sys.stdin):
    if sp.get('displayName') == 'Steward vending internal API': print(sp['id'])")
  for role in "Key Vault Crypto User" "Key Vault Certificate User"; do
    st role assignment create --assignee "$internal" --role "$role" --scope "/subscriptions/$sub" >/dev/null
  done
  cat >"$work/sub.json" <<JSON
{"subscriptionId": "$sub", "displayName": "load",
 "executionContext": {"tenantId": "$tenant", "clientId": "$app", "vaultUrl": "https://steward.vault.azure.net", "certificateName": "exec"},
 "tags": [{"name": "Owner", "required": true}], "naming": "rg-{env}-{costCenter}-{name}"}
JSON
  st vending catalog subscription add "$work/sub.json" >/dev/null
  st vending catalog authorization add --principal "$oid" --subscription-id "$sub" \
    --cost-center cc1 --environment dev --region westeurope >/dev/null
  sleep 3 # the grants reach every replica (notification, or the 2 s poll)
  vtok=$(st token --resource api://steward-vending)
}
