"""Unmodified Azure SDK for Python code, default options only: no
base_url, no authority, no instance-discovery switch. Run with the
environment `steward env` prints (HTTPS_PROXY to Steward's proxy, the CA
bundle, AZURE_* credentials), it reaches Steward through Azure's own host
names. argv: group, DCE ingestion endpoint, DCR immutable ID (the last two
for LogsIngestionClient with ManagedIdentityCredential)."""
import asyncio
import json
import os
import sys

from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.policyinsights.aio import PolicyInsightsClient as AsyncPolicyInsightsClient
from azure.mgmt.resource import ResourceManagementClient
from azure.monitor.ingestion import LogsIngestionClient
from azure.monitor.query import LogsBatchQuery, LogsQueryClient

group, endpoint, rule = sys.argv[1:4]
sub = os.environ["AZURE_SUBSCRIPTION_ID"]
out = {}
cred = DefaultAzureCredential()

rm = ResourceManagementClient(cred, sub)
rm.resource_groups.create_or_update(group, {"location": "westeurope"})
out["groups"] = sorted(g.name for g in rm.resource_groups.list())

pi = PolicyInsightsClient(cred, sub)
out["states"] = len(list(pi.policy_states.list_query_results_for_subscription("latest", sub)))


async def states_async():
    async with AsyncDefaultAzureCredential() as c, AsyncPolicyInsightsClient(c, sub) as p:
        return len([s async for s in p.policy_states.list_query_results_for_subscription("latest", sub)])

out["statesAsync"] = asyncio.run(states_async())

vault = "https://steward.vault.azure.net/"
secrets = SecretClient(vault, cred)
s = secrets.set_secret("proxied", "s3cret")
out["secretId"] = s.id
out["secretValue"] = secrets.get_secret("proxied").value
out["keyId"] = KeyClient(vault, cred).create_rsa_key("proxied-key").id
cert = CertificateClient(vault, cred).begin_create_certificate("proxied-cert", CertificatePolicy.get_default()).result()
out["certificateId"] = cert.id

ws_id = f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.OperationalInsights/workspaces/proxied"
ws = rm.resources.begin_create_or_update_by_id(ws_id, "2022-10-01", {"location": "westeurope"}).result()
customer = ws.properties["customerId"]
logs = LogsQueryClient(cred)
out["query"] = [list(r) for r in logs.query_workspace(customer, "print x = 1", timespan=None).tables[0].rows]
batch = logs.query_batch([LogsBatchQuery(customer, "print y = 2", timespan=None), LogsBatchQuery(customer, "print z = 3", timespan=None)])
out["batch"] = [[list(r) for r in b.tables[0].rows] for b in batch]

ingest = LogsIngestionClient(endpoint, ManagedIdentityCredential())
ingest.upload(rule, "Custom-Proxied", [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "from python"}])
out["uploaded"] = True
json.dump(out, sys.stdout)
