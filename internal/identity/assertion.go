package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// maxAssertionBytes caps a client assertion before it is parsed.
const maxAssertionBytes = 16 << 10

// assertionAlgs are the signature algorithms accepted on client
// assertions: RS256 (with x5t, the older documented form) and PS256 (with
// x5t#S256, what MSAL sends today).
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256}

// assertionClaims are the claims of a client assertion.
type assertionClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
}

// parseAssertion parses a compact JWS with the size cap and a recover
// point, so malformed input of any shape is an error, never a panic.
func parseAssertion(raw string) (tok *jwt.JSONWebToken, err error) {
	if len(raw) > maxAssertionBytes {
		return nil, errors.New("assertion too large")
	}
	defer func() {
		if p := recover(); p != nil {
			tok, err = nil, fmt.Errorf("assertion parse panic: %v", p)
		}
	}()
	tok, err = jwt.ParseSigned(raw, assertionAlgs)
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("assertion must have exactly one signature")
	}
	return tok, nil
}

// verifyAssertion checks a client assertion for app: the certificate named
// by x5t or x5t#S256 is one of the app's key credentials valid now, the
// signature verifies with it, iss = sub = client ID, aud names this
// tenant's token endpoint, nbf/exp hold with the clock skew, and the jti
// has not been seen before. It returns the certificate credential's keyId.
func (s *Service) verifyAssertion(ctx context.Context, tenantID, pathTenant string, app Application,
	raw string, authorities []string, now time.Time) (string, error) {
	tok, err := parseAssertion(raw)
	if err != nil {
		return "", errMalformedAssertion()
	}
	h := tok.Headers[0]
	cred, thumb, err := findKeyCredential(app, h)
	if err != nil {
		return "", err
	}
	if !activeAt(cred.StartDateTime, cred.EndDateTime, now) {
		return "", errCertNotRegistered(thumb)
	}
	cert, err := x509.ParseCertificate(cred.Certificate)
	if err != nil {
		return "", fmt.Errorf("identity: stored certificate of %s: %w", app.AppID, err)
	}
	var c assertionClaims
	if err := tok.Claims(cert.PublicKey, &c); err != nil {
		return "", errBadSignature()
	}
	if !strings.EqualFold(c.Issuer, app.AppID) || !strings.EqualFold(c.Subject, app.AppID) {
		return "", errAssertionSubject()
	}
	if !audienceMatches(c.Audience, authorities, tenantID, pathTenant) {
		return "", errAssertionAudience()
	}
	if c.Expiry == nil || c.ID == "" {
		return "", errMalformedAssertion()
	}
	skew := s.opts.ClockSkew
	if now.After(c.Expiry.Time().Add(skew)) {
		return "", errAssertionTime()
	}
	if c.Expiry.Time().Sub(now) > MaxAssertionLifetime+skew {
		return "", errAssertionTooLong()
	}
	if c.NotBefore != nil && now.Add(skew).Before(c.NotBefore.Time()) {
		return "", errAssertionTime()
	}
	return cred.KeyID, s.spendJTI(ctx, tenantID, app.AppID, c.ID, now)
}

// findKeyCredential finds the key credential whose thumbprint the header
// names, preferring x5t#S256.
func findKeyCredential(app Application, h jose.Header) (KeyCredential, string, error) {
	for _, name := range []string{"x5t#S256", "x5t"} {
		v, ok := h.ExtraHeaders[jose.HeaderKey(name)].(string)
		if !ok || v == "" {
			continue
		}
		want, err := decodeThumbprint(v)
		if err != nil {
			return KeyCredential{}, v, errCertNotRegistered(v)
		}
		for _, c := range app.KeyCredentials {
			have := c.ThumbprintSHA1
			if name == "x5t#S256" {
				have = c.ThumbprintSHA256
			}
			if bytes.Equal(have, want) {
				return c, base64.RawURLEncoding.EncodeToString(want), nil
			}
		}
		return KeyCredential{}, base64.RawURLEncoding.EncodeToString(want), errCertNotRegistered(v)
	}
	return KeyCredential{}, "", errNoThumbprint()
}

// audienceMatches reports whether aud names the token endpoint (v2.0 or
// v1) or the issuer of the tenant under one of the authorities, by tenant
// ID or by the tenant spelling of the request path.
func audienceMatches(aud jwt.Audience, authorities []string, tenantID, pathTenant string) bool {
	for _, a := range aud {
		a = strings.TrimSuffix(a, "/")
		for _, base := range authorities {
			base = strings.TrimSuffix(base, "/")
			for _, t := range []string{tenantID, pathTenant} {
				for _, suffix := range []string{"/oauth2/v2.0/token", "/oauth2/token", "/v2.0"} {
					if strings.EqualFold(a, base+"/"+t+suffix) {
						return true
					}
				}
			}
		}
	}
	return false
}

// MaxAssertionLifetime is how far in the future a client assertion's exp
// may be (beyond the clock skew). Microsoft documents that an assertion
// should expire 5 to 10 minutes after its nbf; a longer one is refused, so
// a leaked assertion is short-lived and the jti records it leaves are too.
const MaxAssertionLifetime = 10 * time.Minute

// jtiWindow is how long an accepted assertion can stay acceptable: from
// now, its exp is at most MaxAssertionLifetime plus the skew ahead, and it
// is accepted until exp plus the skew.
func (s *Service) jtiWindow() time.Duration { return MaxAssertionLifetime + 2*s.opts.ClockSkew }

// spendJTI records an assertion's jti as used, so that a second use with
// the same jti is a replay whatever its other claims (another exp, nbf or
// aud). Time is cut into buckets as long as the window in which an
// assertion stays acceptable; a jti is recorded in the bucket of now and
// in the next one, IfAbsent, so any reuse within the window meets one of
// the two records, even on another replica, and PruneAssertions can drop
// every bucket before the current one with one range delete.
func (s *Service) spendJTI(ctx context.Context, tenantID, appID, jti string, now time.Time) error {
	if len(jti) > 256 {
		return errMalformedAssertion()
	}
	sum := sha256.Sum256([]byte(jti)) // any jti spelling becomes a safe key
	id := strings.ToLower(tenantID) + "/" + strings.ToLower(appID) + "/" + hex.EncodeToString(sum[:])
	b := s.jtiBucket(now)
	keys := []string{jtiKeyPrefix(b) + id, jtiKeyPrefix(b+1) + id}
	var err error
	if m, ok := s.dir.recs.(multiCreator); ok {
		err = m.CreateAll(ctx, tableJTI, keys, nil) // one commit
	} else {
		for _, k := range keys {
			if err = s.dir.recs.Create(ctx, tableJTI, k, nil); err != nil {
				break
			}
		}
	}
	if errors.Is(err, ErrExists) {
		return errAssertionReplayed()
	}
	return err
}

// multiCreator is implemented by Records that can create several keys in
// one transaction (StoreRecords), which spends a jti with one commit.
type multiCreator interface {
	CreateAll(ctx context.Context, table string, keys []string, value []byte) error
}

// jtiBucket numbers the window-long time bucket t falls in.
func (s *Service) jtiBucket(t time.Time) int64 { return t.Unix() / int64(s.jtiWindow()/time.Second) }

// jtiKeyPrefix starts the keys of a bucket. The "b/" sorts after the
// exp-prefixed keys of earlier versions (all digits), so the first prune
// removes those too.
func jtiKeyPrefix(bucket int64) string { return fmt.Sprintf("b/%020d/", bucket) }

// PruneAssertions deletes the records of spent assertions in the buckets
// before the current one, which no reuse can meet any more (see
// spendJTI), and returns how many it deleted. Steward runs it
// periodically.
func (s *Service) PruneAssertions(ctx context.Context) (int, error) {
	return s.dir.recs.DeleteBefore(ctx, tableJTI, jtiKeyPrefix(s.jtiBucket(s.opts.Now())))
}
