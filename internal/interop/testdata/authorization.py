"""Drives AuthorizationManagementClient: creates a role assignment on a
resource group and lists the group's assignments."""
import sys

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource import ResourceManagementClient

from common import credential, emit, ARM, ARM_SCOPE, ENV, SUBSCRIPTION

group, assignment, principal = sys.argv[1:4]
cred = credential()
ResourceManagementClient(cred, SUBSCRIPTION, base_url=ARM, credential_scopes=[ARM_SCOPE]) \
    .resource_groups.create_or_update(group, {"location": "westeurope"})
client = AuthorizationManagementClient(cred, SUBSCRIPTION, base_url=ARM, credential_scopes=[ARM_SCOPE])
scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
reader = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
created = client.role_assignments.create(scope, assignment, {
    "role_definition_id": reader, "principal_id": principal, "principal_type": "ServicePrincipal"})
emit({
    "created": created.id,
    "listed": [a.id for a in client.role_assignments.list_for_resource_group(group)],
    "subscription": [a.scope for a in client.role_assignments.list_for_subscription()],
})
