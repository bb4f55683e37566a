// Package vault is Steward's Key Vault-compatible data plane: secrets, keys
// (RSA and EC, sign/verify, encrypt/decrypt, wrap/unwrap, rotation) and
// certificates (policies, self-signed issue, CSR and merge, import, the
// backing key and secret), with soft delete, recover and purge, served with
// Azure Key Vault's REST shapes so that the unmodified azsecrets, azkeys and
// azcertificates clients drive it.
//
// Every value the package stores goes through a [Barrier]: AES-256-GCM under
// a key-encryption key, with a version byte and the storage path as
// additional data, so no secret or private key reaches the database in
// clear. The key-encryption keys are themselves sealed by a root key that
// comes from a 0600 file or an environment variable and can be rotated
// without re-encrypting data or stopping replicas.
//
// Requests are authenticated with Key Vault's bearer challenge and
// authorized through internal/rbac with the Key Vault data actions.
package vault
