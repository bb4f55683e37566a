"""Drives SecretClient against the vault URL given as argv[1]: set and get
a secret. The Python SDK parses every object ID it gets back; a failure
to parse is reported as "parse_error"."""
import sys

from azure.keyvault.secrets import SecretClient

from common import credential, emit

url, verify = sys.argv[1], sys.argv[2] == "verify"
client = SecretClient(url, credential(), verify_challenge_resource=verify)
out = {}
try:
    out["set_id"] = client.set_secret("interop", "s3cret").id
    got = client.get_secret("interop")
    out["value"] = got.value
except ValueError as err:
    out["parse_error"] = str(err)
emit(out)
