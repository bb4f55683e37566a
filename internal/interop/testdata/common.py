"""Shared set-up for the interop scripts: credentials built from the
environment that `steward env` exports, pointed at Steward's authority."""
import json
import os
import sys

from azure.identity import CertificateCredential, ClientSecretCredential

ENV = os.environ
ARM = ENV["AZURE_RESOURCE_MANAGER_ENDPOINT"]
ARM_SCOPE = "https://management.azure.com/.default"
SUBSCRIPTION = ENV["AZURE_SUBSCRIPTION_ID"]


def credential(kind="secret"):
    """A credential for the administrator; azure-identity 1.13.0b2 calls the
    switch instance_discovery=False (1.13.0 and later:
    disable_instance_discovery=True)."""
    common = dict(authority=ENV["AZURE_AUTHORITY_HOST"], instance_discovery=False)
    if kind == "certificate":
        return CertificateCredential(ENV["AZURE_TENANT_ID"], ENV["AZURE_CLIENT_ID"],
                                     certificate_path=ENV["AZURE_CLIENT_CERTIFICATE_PATH"], **common)
    return ClientSecretCredential(ENV["AZURE_TENANT_ID"], ENV["AZURE_CLIENT_ID"],
                                  ENV["AZURE_CLIENT_SECRET"], **common)


def emit(result):
    """Writes the script's findings as one JSON object on stdout."""
    json.dump(result, sys.stdout)
