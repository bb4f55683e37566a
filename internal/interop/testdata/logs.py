"""Creates a Log Analytics workspace through ARM and runs a query in it
with LogsQueryClient, whose endpoint is Steward's base URL (the client
then asks for a token for that origin, which Steward accepts for its
query API)."""
import sys

from azure.mgmt.resource import ResourceManagementClient
from azure.monitor.query import LogsQueryClient

from common import credential, emit, ARM, ARM_SCOPE, SUBSCRIPTION

group, name = sys.argv[1:3]
cred = credential()
arm = ResourceManagementClient(cred, SUBSCRIPTION, base_url=ARM, credential_scopes=[ARM_SCOPE])
arm.resource_groups.create_or_update(group, {"location": "westeurope"})
ws_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.OperationalInsights/workspaces/{name}"
ws = arm.resources.begin_create_or_update_by_id(ws_id, "2022-10-01", {"location": "westeurope"}).result()
customer = ws.properties["customerId"]
result = LogsQueryClient(cred, endpoint=ARM.rstrip("/")).query_workspace(customer, "range n from 1 to 3 step 1 | summarize total = sum(n)", timespan=None)
emit({"customerId": customer, "status": str(result.status), "rows": [list(row) for row in result.tables[0].rows]})
