"""Tries ClientSecretCredential with the switch spelled as azure-identity
1.13.0 and later spell it (disable_instance_discovery=True) and reports
whether a token came back or the error."""
from azure.identity import ClientSecretCredential

from common import emit, ENV, ARM_SCOPE

cred = ClientSecretCredential(ENV["AZURE_TENANT_ID"], ENV["AZURE_CLIENT_ID"], ENV["AZURE_CLIENT_SECRET"],
                              authority=ENV["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True)
try:
    cred.get_token(ARM_SCOPE)
    emit({"token": True})
except Exception as err:  # the finding is the error itself
    emit({"token": False, "error": str(err)})
