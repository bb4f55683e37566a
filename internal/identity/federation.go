package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DefaultFederatedAudience is the audience Entra recommends for federated
// identity credentials, and the one Graph fills in when none is given.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// federatedAlgs are the signature algorithms accepted on external
// issuers' tokens.
var federatedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384}

// Limits on fetching an external issuer's discovery document and keys.
const (
	maxOIDCDocBytes = 1 << 20
	oidcKeysTTL     = 10 * time.Minute
	oidcRefetchMin  = 30 * time.Second
)

// ValidIssuerURL reports whether an external issuer may be trusted by a
// federated identity credential: an absolute https URL, or http on a
// loopback host (for tests and a CI system on the same machine). The
// token service fetches its discovery document, so anything else is
// refused rather than dialled.
func ValidIssuerURL(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q is not an absolute URL without query or fragment", issuer)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("issuer %q must be an https URL (http only on a loopback host)", issuer)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// oidcKeyCache holds external issuers' JSON Web Key Sets.
type oidcKeyCache struct {
	mu      sync.Mutex
	entries map[string]oidcEntry
}

type oidcEntry struct {
	keys    jose.JSONWebKeySet
	fetched time.Time
}

// federatedClaims are the claims read from an external token.
type federatedClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
}

// isFederatedAssertion reports whether a client assertion is an external
// issuer's token rather than one the client signed itself: the app trusts
// some external issuer and the assertion's iss is not the client ID.
func isFederatedAssertion(app Application, raw string) bool {
	if len(app.FederatedIdentityCredentials) == 0 || len(raw) > maxAssertionBytes {
		return false
	}
	tok, err := jwt.ParseSigned(raw, federatedAlgs)
	if err != nil {
		return false
	}
	var c federatedClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return false
	}
	return !strings.EqualFold(c.Issuer, app.AppID)
}

// verifyFederated checks an external token against the app's federated
// identity credentials: some credential must name its issuer (before any
// key is fetched, so an assertion cannot make Steward dial arbitrary
// URLs), the signature must verify with the issuer's published keys, the
// token must be within its validity, and one credential must match issuer,
// subject and an audience exactly (Entra compares them case-sensitively).
func (s *Service) verifyFederated(ctx context.Context, app Application, raw string, now time.Time) (string, error) {
	tok, err := parseFederated(raw)
	if err != nil {
		return "", errMalformedAssertion()
	}
	var unverified federatedClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return "", errMalformedAssertion()
	}
	var byIssuer []FederatedIdentityCredential
	for _, c := range app.FederatedIdentityCredentials {
		if c.Issuer == unverified.Issuer {
			byIssuer = append(byIssuer, c)
		}
	}
	if len(byIssuer) == 0 {
		return "", errFederatedIssuer(unverified.Issuer)
	}
	keys, err := s.issuerKeys(ctx, unverified.Issuer, tok.Headers[0].KeyID, now)
	if err != nil {
		s.opts.Logger.Warn("federated credential: fetching the issuer's keys failed", "issuer", unverified.Issuer, "err", err.Error())
		return "", errExternalOIDC(unverified.Issuer)
	}
	var c federatedClaims
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k.Key, &c); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return "", errBadSignature()
	}
	skew := s.opts.ClockSkew
	if c.Expiry == nil || now.After(c.Expiry.Time().Add(skew)) || (c.NotBefore != nil && now.Add(skew).Before(c.NotBefore.Time())) {
		return "", errAssertionTime()
	}
	audOK, subOK := false, false
	for _, fic := range byIssuer {
		a := slices.ContainsFunc(fic.Audiences, func(want string) bool { return slices.Contains(c.Audience, want) })
		sub := fic.Subject == c.Subject
		if a && sub {
			return fic.ID, nil
		}
		audOK, subOK = audOK || a, subOK || sub
	}
	aud := strings.Join(c.Audience, ",")
	switch {
	case !audOK:
		return "", errFederatedAudience(aud)
	case !subOK:
		return "", errFederatedSubject(c.Subject)
	}
	return "", errFederatedNoMatch(c.Issuer, c.Subject, aud)
}

func parseFederated(raw string) (tok *jwt.JSONWebToken, err error) {
	if len(raw) > maxAssertionBytes {
		return nil, errors.New("assertion too large")
	}
	defer func() {
		if p := recover(); p != nil {
			tok, err = nil, fmt.Errorf("assertion parse panic: %v", p)
		}
	}()
	tok, err = jwt.ParseSigned(raw, federatedAlgs)
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("assertion must have exactly one signature")
	}
	return tok, nil
}

// issuerKeys returns the issuer's keys that may have signed a token with
// kid (all of them when kid is empty), from the cache or fetched through
// the issuer's OIDC discovery document. An unknown kid refetches, at most
// every oidcRefetchMin, so key rotation is picked up.
func (s *Service) issuerKeys(ctx context.Context, issuer, kid string, now time.Time) ([]jose.JSONWebKey, error) {
	s.oidc.mu.Lock()
	e, ok := s.oidc.entries[issuer]
	s.oidc.mu.Unlock()
	fresh := ok && now.Sub(e.fetched) < oidcKeysTTL
	if fresh {
		if k := pickKeys(e.keys, kid); len(k) > 0 || now.Sub(e.fetched) < oidcRefetchMin {
			return k, nil
		}
	}
	set, err := s.fetchIssuerKeys(ctx, issuer)
	if err != nil {
		return nil, err
	}
	s.oidc.mu.Lock()
	if s.oidc.entries == nil {
		s.oidc.entries = map[string]oidcEntry{}
	}
	s.oidc.entries[issuer] = oidcEntry{keys: set, fetched: now}
	s.oidc.mu.Unlock()
	return pickKeys(set, kid), nil
}

func pickKeys(set jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	if kid == "" {
		return set.Keys
	}
	return set.Key(kid)
}

// fetchIssuerKeys reads {issuer}/.well-known/openid-configuration, checks
// that it names the same issuer, and reads its jwks_uri.
func (s *Service) fetchIssuerKeys(ctx context.Context, issuer string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := ValidIssuerURL(issuer); err != nil {
		return set, err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := s.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return set, err
	}
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return set, fmt.Errorf("discovery document names issuer %q, not %q", doc.Issuer, issuer)
	}
	if err := ValidIssuerURL(doc.JWKSURI); err != nil {
		return set, fmt.Errorf("jwks_uri: %w", err)
	}
	if err := s.getJSON(ctx, doc.JWKSURI, &set); err != nil {
		return set, err
	}
	return set, nil
}

func (s *Service) getJSON(ctx context.Context, u string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	client := s.opts.FederationClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxOIDCDocBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxOIDCDocBytes {
		return fmt.Errorf("GET %s: document larger than %d bytes", u, maxOIDCDocBytes)
	}
	return json.Unmarshal(b, out)
}

// AddFederatedCredential adds a federated identity credential to the
// application (or user-assigned identity's application) appID after
// checking it: a unique name, an issuer URL Steward can fetch, a subject,
// and exactly one audience (api://AzureADTokenExchange when none given).
func (s *Service) AddFederatedCredential(ctx context.Context, tenantID, appID string, fic FederatedIdentityCredential) (FederatedIdentityCredential, error) {
	app, err := s.dir.Application(ctx, tenantID, appID)
	if err != nil {
		return FederatedIdentityCredential{}, err
	}
	if len(fic.Audiences) == 0 {
		fic.Audiences = []string{DefaultFederatedAudience}
	}
	if err := CheckFederatedCredential(fic, app.FederatedIdentityCredentials); err != nil {
		return FederatedIdentityCredential{}, err
	}
	if fic.ID == "" {
		fic.ID = strings.ToLower(s.opts.NewID())
	}
	app.FederatedIdentityCredentials = append(app.FederatedIdentityCredentials, fic)
	return fic, s.dir.PutApplication(ctx, app)
}

// Federated credential limits, as Entra's: 20 per application, a name of
// 3 to 120 characters, one audience of at most 600 characters.
const (
	MaxFederatedCredentials = 20
	maxFICNameLen           = 120
	maxFICAudienceLen       = 600
)

// CheckFederatedCredential validates fic against the app's existing
// credentials (others, which should not include fic itself).
func CheckFederatedCredential(fic FederatedIdentityCredential, others []FederatedIdentityCredential) error {
	switch {
	case len(fic.Name) < 3 || len(fic.Name) > maxFICNameLen || strings.ContainsAny(fic.Name, "/\\?#%"):
		return fmt.Errorf("name must be 3 to %d characters without / \\ ? # or %%", maxFICNameLen)
	case fic.Subject == "":
		return errors.New("subject is required")
	case len(fic.Audiences) != 1 || fic.Audiences[0] == "" || len(fic.Audiences[0]) > maxFICAudienceLen:
		return fmt.Errorf("audiences must hold exactly one value of at most %d characters", maxFICAudienceLen)
	}
	if err := ValidIssuerURL(fic.Issuer); err != nil {
		return err
	}
	if len(others) >= MaxFederatedCredentials {
		return fmt.Errorf("an application has at most %d federated identity credentials", MaxFederatedCredentials)
	}
	for _, o := range others {
		if strings.EqualFold(o.Name, fic.Name) {
			return fmt.Errorf("a federated identity credential named %q already exists", fic.Name)
		}
		if o.Issuer == fic.Issuer && o.Subject == fic.Subject {
			return errors.New("a federated identity credential with this issuer and subject already exists")
		}
	}
	return nil
}
