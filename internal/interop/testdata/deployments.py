"""Drives ResourceManagementClient.deployments: validate, what-if, create
and operations of a template given as a file."""
import json
import sys

from azure.mgmt.resource import ResourceManagementClient

from common import credential, emit, ARM, ARM_SCOPE, SUBSCRIPTION

group, template_file = sys.argv[1], sys.argv[2]
with open(template_file) as f:
    template = json.load(f)
client = ResourceManagementClient(credential(), SUBSCRIPTION, base_url=ARM, credential_scopes=[ARM_SCOPE])
client.resource_groups.create_or_update(group, {"location": "westeurope"})
props = {"properties": {"mode": "Incremental", "template": template, "parameters": {"count": {"value": 2}}}}
out = {}
valid = client.deployments.begin_validate(group, "py", props).result()
out["validated"] = [r.id for r in valid.properties.validated_resources]
what_if = client.deployments.begin_what_if(group, "py", props).result()
out["what_if"] = sorted(c.change_type for c in what_if.changes)
done = client.deployments.begin_create_or_update(group, "py", props).result()
out["state"] = done.properties.provisioning_state
out["outputs"] = done.properties.outputs
out["operations"] = [o.properties.provisioning_state for o in client.deployment_operations.list(group, "py")]
emit(out)
