"""Drives ResourceManagementClient: resource group create, get, update,
list, check_existence, resource list and delete."""
import sys

from azure.mgmt.resource import ResourceManagementClient

from common import credential, emit, ARM, ARM_SCOPE, SUBSCRIPTION

name = sys.argv[1]
client = ResourceManagementClient(credential(), SUBSCRIPTION, base_url=ARM, credential_scopes=[ARM_SCOPE])
out = {}
created = client.resource_groups.create_or_update(name, {"location": "westeurope", "tags": {"env": "dev"}})
out["created"] = {"id": created.id, "location": created.location, "tags": created.tags}
client.resource_groups.update(name, {"tags": {"env": "prod"}})
out["got"] = {"tags": client.resource_groups.get(name).tags}
out["listed"] = [g.name for g in client.resource_groups.list()]
out["filtered"] = [g.name for g in client.resource_groups.list(filter="tagName eq 'env' and tagValue eq 'prod'")]
out["exists"] = client.resource_groups.check_existence(name)
out["resources"] = [r.id for r in client.resources.list()]
client.resource_groups.begin_delete(name).result()
out["exists_after_delete"] = client.resource_groups.check_existence(name)
emit(out)
