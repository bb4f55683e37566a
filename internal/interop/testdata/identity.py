"""Gets ARM tokens with ClientSecretCredential and CertificateCredential
from the kind of credential named by argv[1]."""
import sys

from common import credential, emit, ARM_SCOPE

emit({"token": credential(sys.argv[1]).get_token(ARM_SCOPE).token})
