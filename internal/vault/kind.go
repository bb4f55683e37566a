package vault

import "strings"

// kind is one of the three object collections of a vault.
type kind string

const (
	kindSecret kind = "secrets"
	kindKey    kind = "keys"
	kindCert   kind = "certificates"
)

func (k kind) singular() string { return strings.TrimSuffix(string(k), "s") }

func (k kind) title() string {
	s := k.singular()
	return strings.ToUpper(s[:1]) + s[1:]
}

// notFoundCode is Key Vault's 404 code for the kind.
func (k kind) notFoundCode() string {
	switch k {
	case kindSecret:
		return "SecretNotFound"
	case kindKey:
		return "KeyNotFound"
	default:
		return "CertificateNotFound"
	}
}

// auditName is Key Vault's audit operation name for a verb on the kind
// (SecretPurge, KeyGetDeleted, CertificateListDeleted).
func (k kind) auditName(verb string) string { return k.title() + verb }

// deletedPath is the collection of deleted objects of the kind.
func (k kind) deletedPath() string { return "deleted" + string(k) }

// dataAction is the Key Vault data action for an operation on the kind.
func (k kind) dataAction(op string) string {
	return "Microsoft.KeyVault/vaults/" + string(k) + "/" + op
}

// validName reports whether s is a Key Vault object name: 1 to 127 of
// [0-9a-zA-Z-].
func validName(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
