package identity

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// secretBytes is the entropy of a generated client secret: 30 bytes, which
// base64url-encode to 40 characters, the length of Entra's secrets.
const secretBytes = 30

// NewClientSecret generates a client secret from rand and returns the
// secret (shown once, never stored) and its credential (salted hash, hint
// and validity window).
func NewClientSecret(rand io.Reader, keyID, displayName string, start, end time.Time) (string, PasswordCredential, error) {
	raw := make([]byte, secretBytes)
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, raw); err != nil {
		return "", PasswordCredential{}, fmt.Errorf("identity: generate secret: %w", err)
	}
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", PasswordCredential{}, fmt.Errorf("identity: generate salt: %w", err)
	}
	// The first character is a letter (the top bit of the first byte is
	// clear: A to f), so a secret never begins with "-", which az and other
	// command lines would read as an option, as Azure's generated secrets
	// never do. The secret keeps 239 random bits.
	raw[0] &= 0x7f
	secret := base64.RawURLEncoding.EncodeToString(raw)
	return secret, PasswordCredential{
		KeyID:         keyID,
		DisplayName:   displayName,
		Hint:          secret[:3],
		Salt:          salt,
		Hash:          secretHash(salt, secret),
		StartDateTime: start.UTC(),
		EndDateTime:   end.UTC(),
	}, nil
}

// secretHash is HMAC-SHA256 keyed by the credential's salt. Client secrets
// are 240-bit random values, so a fast keyed hash resists offline guessing as
// well as a slow KDF would, and keeps the token endpoint fast (see
// docs/decisions/identity.md).
func secretHash(salt []byte, secret string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Matches reports, in constant time, whether secret is this credential's.
func (c PasswordCredential) Matches(secret string) bool {
	return subtle.ConstantTimeCompare(secretHash(c.Salt, secret), c.Hash) == 1
}

// NewCertificateCredential returns the key credential for a certificate:
// its DER bytes and both thumbprints. The validity window defaults to the
// certificate's own when start and end are zero.
func NewCertificateCredential(cert *x509.Certificate, keyID, displayName string, start, end time.Time) KeyCredential {
	s1 := sha1.Sum(cert.Raw) //nolint:gosec // thumbprint, not a security hash
	s256 := sha256.Sum256(cert.Raw)
	if start.IsZero() {
		start = cert.NotBefore
	}
	if end.IsZero() {
		end = cert.NotAfter
	}
	return KeyCredential{
		KeyID:            keyID,
		DisplayName:      displayName,
		Type:             "AsymmetricX509Cert",
		Usage:            "Verify",
		Certificate:      cert.Raw,
		ThumbprintSHA1:   s1[:],
		ThumbprintSHA256: s256[:],
		StartDateTime:    start.UTC(),
		EndDateTime:      end.UTC(),
	}
}

// decodeThumbprint reads an x5t or x5t#S256 header value. RFC 7515 says
// base64url without padding; MSAL sends standard base64 with padding, and
// Entra accepts both, so this does too.
func decodeThumbprint(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// argon2id parameters for user passwords (RFC 9106's second recommended
// option: 64 MiB, 3 passes, 4 lanes).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 4
	argonKeyLen  = 32
)

// HashPassword hashes a user password with argon2id and returns the PHC
// string ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(rand io.Reader, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("identity: generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// errBadHash is returned for a stored password hash that is not a PHC
// argon2id string this package wrote.
var errBadHash = errors.New("identity: malformed password hash")

// CheckPassword reports whether password matches a PHC argon2id hash made
// by HashPassword, comparing in constant time.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<21 || t == 0 || t > 16 || p == 0 {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
