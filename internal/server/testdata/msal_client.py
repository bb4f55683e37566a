"""Gets tokens from Steward with MSAL for Python, as an unmodified client.

Usage: msal_client.py AUTHORITY_HOST TENANT CLIENT_ID SECRET CERT_PEM_PATH
Prints a JSON object: {"secret": token, "certificate": token,
"certificate_x5c": token} or {"error": ...}. The CA is trusted through
REQUESTS_CA_BUNDLE.
"""
import json
import sys

import msal
from cryptography import x509
from cryptography.hazmat.primitives import hashes

host, tenant, client_id, secret, cert_path = sys.argv[1:6]
authority = host.rstrip("/") + "/" + tenant
scopes = ["https://management.azure.com/.default"]
pem = open(cert_path).read()
cert = x509.load_pem_x509_certificate(pem.encode())
thumb = cert.fingerprint(hashes.SHA1()).hex()
public = pem[: pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]

credentials = {
    "secret": secret,
    "certificate": {"private_key": pem, "thumbprint": thumb},
    "certificate_x5c": {"private_key": pem, "thumbprint": thumb, "public_certificate": public},
}
out = {}
for name, cred in credentials.items():
    app = msal.ConfidentialClientApplication(
        client_id, client_credential=cred, authority=authority, instance_discovery=False
    )
    result = app.acquire_token_for_client(scopes=scopes)
    if "access_token" not in result:
        out = {"error": name + ": " + json.dumps(result)}
        break
    out[name] = result["access_token"]
print(json.dumps(out))
