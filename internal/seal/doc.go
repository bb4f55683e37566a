// Package seal is Steward's encryption at rest: a root key kept outside
// the data directory (a key file under the user's configuration directory,
// or STEWARD_ROOT_KEY), a ring of key-encryption keys sealed under it in
// the store, and the AES-256-GCM barrier that seals each value for its
// storage path. The vault seals every record with it; identity seals the
// tenants' token-signing keys and the bootstrap credential, and logs the
// workspaces' shared keys.
//
// It sits just above internal/store, so every service that keeps a secret
// may import it.
package seal
