"""Drives Steward's Table service with the unmodified azure-data-tables
package (Debian python3-azure): seed 000's registry calls from a connection
string, sync and aio, and seed 001's catalog reads through a read-only SAS.
Prints a JSON summary for the Go test to check."""
import asyncio
import json
import sys

from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.data.tables import EdmType, EntityProperty, TableClient, UpdateMode
from azure.data.tables.aio import TableClient as AsyncTableClient

conn, table_url, sas = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}

# Seed 000: the managed-application registry (sync).
registry = TableClient.from_connection_string(conn, "applications")
registry.create_table()
try:
    registry.create_table()
    out["second_create"] = "succeeded"
except ResourceExistsError as e:
    out["second_create"] = e.error_code
registry.create_entity({"PartitionKey": "sub-1", "RowKey": "app-a", "subscription_id": "sub-1",
                        "app_resource_group_name": "rg-a", "app_name": "app-a", "mrg_name": "mrg-a",
                        "count": EntityProperty(2**40, EdmType.INT64), "ratio": 0.5})
registry.create_entity({"PartitionKey": "sub-1", "RowKey": "app-b", "subscription_id": "sub-1",
                        "app_resource_group_name": "rg-b", "app_name": "app-b", "mrg_name": "mrg-b"})
apps = list(registry.list_entities())
out["listed"] = sorted(a["app_name"] for a in apps)
out["big"] = [a["count"].value for a in apps if "count" in a][0]
got = registry.get_entity(partition_key="sub-1", row_key="app-a")
registry.update_entity({"PartitionKey": "sub-1", "RowKey": "app-a", "mrg_name": "mrg-a2"}, mode=UpdateMode.MERGE)
out["merged"] = registry.get_entity("sub-1", "app-a")["mrg_name"]
out["queried"] = [e["RowKey"] for e in registry.query_entities("mrg_name eq @m", parameters={"m": "mrg-b"})]
registry.delete_entity(row_key="app-b", partition_key="sub-1")
out["after_delete"] = [a["app_name"] for a in registry.list_entities()]
registry.submit_transaction([("create", {"PartitionKey": "sub-2", "RowKey": "x"}),
                             ("upsert", {"PartitionKey": "sub-2", "RowKey": "y", "v": 1})])
out["batched"] = sorted(e["RowKey"] for e in registry.query_entities("PartitionKey eq 'sub-2'"))


async def run_aio():
    async with AsyncTableClient.from_connection_string(conn, "asyncapps") as t:
        await t.create_table()
        await t.create_entity({"PartitionKey": "p", "RowKey": "r1", "n": 1})
        await t.upsert_entity({"PartitionKey": "p", "RowKey": "r2", "n": 2})
        rows = [e async for e in t.list_entities()]
        await t.delete_entity(partition_key="p", row_key="r1")
        left = [e["RowKey"] async for e in t.list_entities()]
        return sorted(e["RowKey"] for e in rows), left

out["aio_listed"], out["aio_left"] = asyncio.run(run_aio())

# Seed 001: the authorization catalog through a valet key (read-only SAS).
catalog = TableClient.from_table_url(table_url, credential=AzureSasCredential(sas))
out["catalog"] = sorted(e["RowKey"] for e in catalog.list_entities())
try:
    catalog.create_entity({"PartitionKey": "envs", "RowKey": "sneaky"})
    out["sas_write"] = "succeeded"
except HttpResponseError as e:
    out["sas_write"] = e.response.headers.get("x-ms-error-code")
print(json.dumps(out))
