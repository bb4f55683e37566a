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
