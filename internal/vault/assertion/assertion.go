// Package assertion builds client assertions for certificate-based service
// principals whose private key never leaves a Key Vault: the JWT is signed
// by the vault's sign operation (azkeys.Sign), so a workload can
// authenticate as an application with azidentity.ClientAssertionCredential
// while holding only the right to sign with the key. It works the same
// against Steward's vault and against Azure Key Vault.
package assertion

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

// Lifetime is how long an assertion is valid: 10 minutes, as MSAL's own.
const Lifetime = 10 * time.Minute

// Config names the certificate and the application.
type Config struct {
	// Keys signs with the certificate's key; Certificates reads the
	// certificate (its DER and key ID).
	Keys         *azkeys.Client
	Certificates *azcertificates.Client
	// Certificate is the vault certificate's name; Version "" uses the
	// current version, read once per assertion.
	Certificate, Version string
	// AuthorityHost is the token service ("https://login.microsoftonline.com/"
	// or Steward's base URL); TenantID and ClientID name the application.
	AuthorityHost, TenantID, ClientID string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns the callback for azidentity.NewClientAssertionCredential. Each
// call reads the certificate, builds a PS256 JWT whose header names the
// certificate by its SHA-256 thumbprint (x5t#S256), and has the vault sign
// the SHA-256 digest of the signing input. azidentity caches the access
// token, so the vault signs once per token, not per request.
func New(cfg Config) func(ctx context.Context) (string, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	aud := strings.TrimSuffix(cfg.AuthorityHost, "/") + "/" + cfg.TenantID + "/oauth2/v2.0/token"
	return func(ctx context.Context) (string, error) {
		cert, err := cfg.Certificates.GetCertificate(ctx, cfg.Certificate, cfg.Version, nil)
		if err != nil {
			return "", err
		}
		if cert.KID == nil || len(cert.CER) == 0 {
			return "", errors.New("assertion: the certificate has no key or DER")
		}
		thumb := sha256.Sum256(cert.CER)
		jti := make([]byte, 16)
		if _, err := rand.Read(jti); err != nil {
			return "", err
		}
		now := cfg.Now()
		header, err := encode(map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(thumb[:])})
		if err != nil {
			return "", err
		}
		claims, err := encode(map[string]any{"aud": aud, "iss": cfg.ClientID, "sub": cfg.ClientID, "jti": hex.EncodeToString(jti),
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(Lifetime).Unix()})
		if err != nil {
			return "", err
		}
		input := header + "." + claims
		digest := sha256.Sum256([]byte(input))
		sig, err := cfg.Keys.Sign(ctx, cert.KID.Name(), cert.KID.Version(),
			azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmPS256), Value: digest[:]}, nil)
		if err != nil {
			return "", err
		}
		return input + "." + base64.RawURLEncoding.EncodeToString(sig.Result), nil
	}
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
