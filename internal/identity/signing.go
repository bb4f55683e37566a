package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t/kid are SHA-1 thumbprints, as in Entra's JWKS
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/steward-gov/steward/internal/seal"
)

// signingKeyRecord is a tenant signing key as stored: the PKCS#8 private
// key, sealed for its storage path, and a self-signed certificate that
// JWKS publishes in x5c. PrivateKey holds the key in clear only in records
// an older Steward wrote (and in tests without a sealer); SealClearKeys
// seals those.
type signingKeyRecord struct {
	KID         string    `json:"kid"`
	TenantID    string    `json:"tenantId"`
	PrivateKey  []byte    `json:"privateKey,omitempty"`
	SealedKey   []byte    `json:"sealedPrivateKey,omitempty"`
	Certificate []byte    `json:"certificate"`
	Created     time.Time `json:"created"`
}

// keyPath is the storage path a signing key is sealed for, so a sealed key
// copied into another tenant's record does not open.
func (r signingKeyRecord) keyPath() string { return tableKeys + "/" + r.TenantID + "/" + r.KID }

// signingKey is a parsed tenant key with its ready signer.
type signingKey struct {
	kid     string
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	created time.Time
	signer  jose.Signer
}

// KeyRing holds the per-tenant RS256 keys that sign access tokens. Keys
// are generated on first use, persisted in [Records] and cached parsed; a
// cache miss on an unknown kid reloads from storage, so replicas see keys
// that others created.
type KeyRing struct {
	recs  Records
	seal  *seal.Sealer
	rand  io.Reader
	now   func() time.Time
	bits  int
	mu    sync.RWMutex
	cache map[string][]*signingKey // tenant -> keys, newest first
}

// NewKeyRing returns a key ring over recs that generates keys of bits
// (2048 when 0) from rand and seals their private keys with sealer (nil
// keeps them in clear, for tests; steward serve always gives one).
func NewKeyRing(recs Records, sealer *seal.Sealer, rand io.Reader, now func() time.Time, bits int) *KeyRing {
	if bits == 0 {
		bits = 2048
	}
	return &KeyRing{recs: recs, seal: sealer, rand: rand, now: now, bits: bits, cache: map[string][]*signingKey{}}
}

// keys returns a tenant's keys, newest first, loading them when not
// cached or when reload is set.
func (k *KeyRing) keys(ctx context.Context, tenantID string, reload bool) ([]*signingKey, error) {
	tid := strings.ToLower(tenantID)
	if !reload {
		k.mu.RLock()
		ks, ok := k.cache[tid]
		k.mu.RUnlock()
		if ok {
			return ks, nil
		}
	}
	vals, err := k.recs.List(ctx, tableKeys, tid+"/")
	if err != nil {
		return nil, err
	}
	ks := make([]*signingKey, 0, len(vals))
	for _, b := range vals {
		var rec signingKeyRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("identity: decode signing key: %w", err)
		}
		if err := k.open(ctx, &rec); err != nil {
			return nil, err
		}
		sk, err := parseSigningKey(rec)
		clear(rec.PrivateKey)
		if err != nil {
			return nil, err
		}
		ks = append(ks, sk)
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].created.After(ks[j].created) })
	if len(ks) > 0 {
		k.mu.Lock()
		k.cache[tid] = ks
		k.mu.Unlock()
	}
	return ks, nil
}

// Ensure makes sure the tenant has a signing key, generating one if not.
func (k *KeyRing) Ensure(ctx context.Context, tenantID string) error {
	ks, err := k.keys(ctx, tenantID, false)
	if err != nil || len(ks) > 0 {
		return err
	}
	return k.Rotate(ctx, tenantID)
}

// Rotate generates a new signing key for the tenant. New tokens are signed
// with it; tokens signed by older keys still validate while those keys stay
// published.
func (k *KeyRing) Rotate(ctx context.Context, tenantID string) error {
	existing, err := k.keys(ctx, tenantID, true)
	if err != nil {
		return err
	}
	created := k.now()
	if len(existing) > 0 && !created.After(existing[0].created) {
		created = existing[0].created.Add(time.Millisecond) // keep "newest" well defined
	}
	rec, err := newSigningKey(k.rand, created, strings.ToLower(tenantID), k.bits)
	if err != nil {
		return err
	}
	if err := k.sealKey(&rec); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := k.recs.Put(ctx, tableKeys, rec.TenantID+"/"+rec.KID, b); err != nil {
		return err
	}
	_, err = k.keys(ctx, tenantID, true)
	return err
}

// sealKey moves the record's private key into SealedKey, sealed, and
// zeroes the clear copy. Without a sealer it leaves the record alone.
func (k *KeyRing) sealKey(rec *signingKeyRecord) error {
	if k.seal == nil || len(rec.PrivateKey) == 0 {
		return nil
	}
	sealed, err := k.seal.Seal(rec.keyPath(), rec.PrivateKey)
	if err != nil {
		return err
	}
	clear(rec.PrivateKey)
	rec.PrivateKey, rec.SealedKey = nil, sealed
	return nil
}

// open fills the record's PrivateKey from SealedKey. A record with the key
// in clear (written before keys were sealed) is accepted as it is;
// SealClearKeys seals it on the next start.
func (k *KeyRing) open(ctx context.Context, rec *signingKeyRecord) error {
	if len(rec.SealedKey) == 0 {
		if len(rec.PrivateKey) == 0 {
			return fmt.Errorf("identity: signing key %s has no private key", rec.KID)
		}
		return nil
	}
	if k.seal == nil {
		return fmt.Errorf("identity: signing key %s is sealed and no sealer is configured", rec.KID)
	}
	pk, err := k.seal.Open(ctx, rec.keyPath(), rec.SealedKey)
	if err != nil {
		return fmt.Errorf("identity: signing key %s: %w", rec.KID, err)
	}
	rec.PrivateKey = pk
	return nil
}

// SealClearKeys seals the private keys that an older Steward stored in
// clear, and returns how many it sealed. steward serve runs it on every
// start; it does nothing without a sealer.
func (k *KeyRing) SealClearKeys(ctx context.Context) (int, error) {
	if k.seal == nil {
		return 0, nil
	}
	vals, err := k.recs.List(ctx, tableKeys, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range vals {
		var rec signingKeyRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return n, fmt.Errorf("identity: decode signing key: %w", err)
		}
		if len(rec.PrivateKey) == 0 {
			continue
		}
		if err := k.sealKey(&rec); err != nil {
			return n, err
		}
		out, err := json.Marshal(rec)
		if err != nil {
			return n, err
		}
		if err := k.recs.Put(ctx, tableKeys, rec.TenantID+"/"+rec.KID, out); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// active returns the key new tokens are signed with.
func (k *KeyRing) active(ctx context.Context, tenantID string) (*signingKey, error) {
	ks, err := k.keys(ctx, tenantID, false)
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("identity: tenant %s has no signing key", tenantID)
	}
	return ks[0], nil
}

// errUnknownKey is returned when no published key has the token's kid.
var errUnknownKey = errors.New("identity: unknown signing key")

// PublicKey returns the public key with kid for the tenant, reloading from
// storage once when it is not cached.
func (k *KeyRing) PublicKey(ctx context.Context, tenantID, kid string) (*rsa.PublicKey, error) {
	for _, reload := range []bool{false, true} {
		ks, err := k.keys(ctx, tenantID, reload)
		if err != nil {
			return nil, err
		}
		for _, sk := range ks {
			if sk.kid == kid {
				return &sk.key.PublicKey, nil
			}
		}
	}
	return nil, errUnknownKey
}

// JWKS returns the tenant's public keys in Entra's JWKS shape.
func (k *KeyRing) JWKS(ctx context.Context, tenantID, issuer string) (JWKS, error) {
	ks, err := k.keys(ctx, tenantID, false)
	if err != nil {
		return JWKS{}, err
	}
	out := JWKS{Keys: make([]JWK, 0, len(ks))}
	for _, sk := range ks {
		out.Keys = append(out.Keys, JWK{
			Kty:    "RSA",
			Use:    "sig",
			Kid:    sk.kid,
			X5t:    sk.kid,
			N:      base64.RawURLEncoding.EncodeToString(sk.key.N.Bytes()),
			E:      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(sk.key.E)).Bytes()),
			X5c:    []string{base64.StdEncoding.EncodeToString(sk.cert.Raw)},
			Issuer: issuer,
		})
	}
	return out, nil
}

// JWKS is a JSON Web Key Set as /discovery/v2.0/keys serves it.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one RSA signing key of a [JWKS], with Entra's extra issuer field.
type JWK struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer"`
}

func newSigningKey(rand io.Reader, now time.Time, tenantID string, bits int) (signingKeyRecord, error) {
	key, err := rsa.GenerateKey(rand, bits)
	if err != nil {
		return signingKeyRecord{}, fmt.Errorf("identity: generate signing key: %w", err)
	}
	serial, err := randomSerial(rand)
	if err != nil {
		return signingKeyRecord{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Steward token signing " + tenantID},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return signingKeyRecord{}, fmt.Errorf("identity: self-sign signing key: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return signingKeyRecord{}, err
	}
	sum := sha1.Sum(der) //nolint:gosec // thumbprint
	return signingKeyRecord{
		KID:         base64.RawURLEncoding.EncodeToString(sum[:]),
		TenantID:    tenantID,
		PrivateKey:  pk,
		Certificate: der,
		Created:     now.UTC(),
	}, nil
}

func parseSigningKey(rec signingKeyRecord) (*signingKey, error) {
	pk, err := x509.ParsePKCS8PrivateKey(rec.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("identity: parse signing key %s: %w", rec.KID, err)
	}
	key, ok := pk.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("identity: signing key %s is not RSA", rec.KID)
	}
	cert, err := x509.ParseCertificate(rec.Certificate)
	if err != nil {
		return nil, fmt.Errorf("identity: parse signing certificate %s: %w", rec.KID, err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").
		WithHeader("kid", rec.KID).WithHeader("x5t", rec.KID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return nil, err
	}
	return &signingKey{kid: rec.KID, key: key, cert: cert, created: rec.Created, signer: signer}, nil
}

// randomSerial returns a positive 128-bit certificate serial number.
func randomSerial(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("identity: serial: %w", err)
	}
	b[0] &= 0x7f
	n := new(big.Int).SetBytes(b)
	return n.Add(n, big.NewInt(1)), nil
}
