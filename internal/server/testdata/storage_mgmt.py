"""Creates a storage account with the unmodified azure-mgmt-storage
(begin_create, a long-running operation), reads its keys and builds the
connection string a Function App would get, then uses it with
azure.data.tables. Prints a JSON summary."""
import json
import sys

from azure.data.tables import TableServiceClient
from azure.identity import ClientSecretCredential
from azure.mgmt.storage import StorageManagementClient

base, tenant, client_id, secret, subscription, group, name = sys.argv[1:8]
# Debian's azure-identity (1.13.0b2) spells the switch instance_discovery=False
# (1.13.0 and later: disable_instance_discovery=True).
cred = ClientSecretCredential(tenant, client_id, secret, authority=base, instance_discovery=False)
mgmt = StorageManagementClient(cred, subscription, base_url=base, credential_scopes=["https://management.azure.com/.default"])
out = {}
poller = mgmt.storage_accounts.begin_create(group, name, {
    "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
    "minimum_tls_version": "TLS1_2", "allow_shared_key_access": True}, polling_interval=0)
acct = poller.result()
out["state"] = acct.provisioning_state
out["table"] = acct.primary_endpoints.table
out["https_only"] = acct.enable_https_traffic_only
out["available"] = mgmt.storage_accounts.check_name_availability({"name": name, "type": "Microsoft.Storage/storageAccounts"}).name_available
keys = mgmt.storage_accounts.list_keys(group, name).keys
out["keys"] = [k.key_name for k in keys]
conn = "DefaultEndpointsProtocol=https;AccountName={};AccountKey={};TableEndpoint={}".format(
    name, keys[0].value, acct.primary_endpoints.table.rstrip("/"))
svc = TableServiceClient.from_connection_string(conn)
svc.create_table("fromMgmt")
out["tables"] = [t.name for t in svc.list_tables()]
print(json.dumps(out))
