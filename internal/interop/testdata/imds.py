"""ManagedIdentityCredential on IMDS: no IDENTITY_ENDPOINT, so the SDK asks
http://169.254.169.254, which HTTP_PROXY sends to Steward's proxy."""
import json
import sys

from azure.identity import ManagedIdentityCredential

token = ManagedIdentityCredential().get_token("https://management.azure.com/.default")
json.dump({"token": token.token}, sys.stdout)
