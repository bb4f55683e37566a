package identity

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/seal"
)

// Options configures a [Service]. The zero value of each field takes the
// default that NewService documents.
type Options struct {
	// AuthorityHost is the public base URL of the token service, such as
	// "https://localhost:8443/". It makes the issuer, the discovery URLs and
	// the audience that client assertions must name. Empty means: derive it
	// from each request's Host and TLS state.
	AuthorityHost string
	// TokenLifetime is how long access tokens live (default 1h, Entra's
	// default for app-only tokens is 60 to 90 minutes).
	TokenLifetime time.Duration
	// ClockSkew is the leeway on nbf/exp of client assertions (default 5m).
	ClockSkew time.Duration
	// Resources are resource identifiers, besides applications' app IDs and
	// identifier URIs, that tokens may be requested for (default
	// [DefaultResources]).
	Resources []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the randomness for keys and secrets (default crypto/rand).
	Rand io.Reader
	// NewID returns a new GUID for objects, token IDs and trace IDs (default
	// a random UUID).
	NewID func() string
	// Logger receives token-service events; never secrets or tokens
	// (default: discard).
	Logger *slog.Logger
	// KeyBits is the RSA size of tenant signing keys (default 2048).
	KeyBits int
	// Sealer seals the secrets the service stores: the tenants' signing
	// keys and the bootstrap credential (nil keeps them in clear, for
	// tests; steward serve always sets it).
	Sealer *seal.Sealer
	// Observe, when set, is told the outcome of every token request, for
	// metrics. It must be fast and safe for concurrent use.
	Observe func(TokenOutcome)
	// CredentialUsed, when set, is told which credential authenticated
	// each successful client authentication (credentialuse.go). It runs on
	// the request path: it must be fast and safe for concurrent use.
	CredentialUsed func(CredentialUse)
	// Hosts are other host names the service answers as its own authority
	// (Azure's login.microsoftonline.com, reached through Steward's
	// forward proxy): a request whose Host is one of them gets discovery
	// documents, issuers and endpoints under "https://{host}/", as Entra
	// names itself. A pattern "*.b2clogin.com" matches any one label
	// before the suffix.
	Hosts []string
	// FederationClient fetches external issuers' discovery documents and
	// keys for federated identity credentials (default http.DefaultClient;
	// each fetch is bounded by a 10s timeout).
	FederationClient *http.Client
	// Mailer sends the verification codes of self-service sign-up in B2C
	// user flows; nil turns sign-up off (the page says why).
	Mailer Mailer
}

// TokenOutcome is the outcome of one token request: how the client
// authenticated ("secret", "assertion" or "none") and the AADSTS code of
// the error, 0 on success, -1 for a failure that is not a request error.
type TokenOutcome struct {
	Credential string
	AADSTS     int
}

// DefaultResources are the Azure resource identifiers that Steward serves
// or stands in for: ARM, Key Vault, Log Analytics, Azure Monitor ingestion,
// Microsoft Graph and Azure Storage.
var DefaultResources = []string{
	"https://management.azure.com",
	"https://management.core.windows.net",
	"https://vault.azure.net",
	"https://api.loganalytics.io",
	"https://monitor.azure.com",
	"https://graph.microsoft.com",
	"https://storage.azure.com",
}

// Service is the token service: the directory, the signing keys, and the
// HTTP endpoints. It is safe for concurrent use.
type Service struct {
	dir       *Directory
	keys      *KeyRing
	opts      Options
	resources map[string]bool
	oidc      oidcKeyCache
	lockouts  lockouts
}

// NewService returns a Service over recs with opts' defaults filled in.
func NewService(recs Records, opts Options) *Service {
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.ClockSkew == 0 {
		opts.ClockSkew = 5 * time.Minute
	}
	if opts.Resources == nil {
		opts.Resources = DefaultResources
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.NewID == nil {
		opts.NewID = func() string { return uuid.NewString() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AuthorityHost != "" && !strings.HasSuffix(opts.AuthorityHost, "/") {
		opts.AuthorityHost += "/"
	}
	res := map[string]bool{}
	for _, r := range opts.Resources {
		res[normalizeResource(r)] = true
	}
	return &Service{
		dir:       NewDirectory(recs),
		keys:      NewKeyRing(recs, opts.Sealer, opts.Rand, opts.Now, opts.KeyBits),
		opts:      opts,
		resources: res,
	}
}

// Directory returns the service's directory.
func (s *Service) Directory() *Directory { return s.dir }

// Keys returns the service's signing keys.
func (s *Service) Keys() *KeyRing { return s.keys }

// Handler serves the token service's endpoints under "/{tenant}/":
// v2.0/.well-known/openid-configuration, discovery/v2.0/keys (both
// unauthenticated, as in Entra), oauth2/v2.0/token, the user sign-in
// endpoints oauth2/v2.0/authorize, oauth2/v2.0/logout and openid/userinfo,
// and the home
// tenant's discovery document at ADFSDiscoveryPath.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", s.serveDiscovery)
	mux.HandleFunc("/{tenant}/discovery/v2.0/keys", s.serveKeys)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", s.serveToken)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/authorize", s.serveAuthorize)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/logout", s.serveLogout)
	mux.HandleFunc("/{tenant}/openid/userinfo", s.serveUserInfo)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/webauthn.js", s.serveWebAuthnScript)
	mux.HandleFunc("/{tenant}/"+SecurityInfoPath, s.serveSecurityInfo)
	// B2C user flows: "/{tenant}/{policy}/...".
	mux.HandleFunc("/{tenant}/{policy}/v2.0/.well-known/openid-configuration", s.serveB2CDiscovery)
	mux.HandleFunc("/{tenant}/{policy}/discovery/v2.0/keys", s.serveB2CKeys)
	mux.HandleFunc("/{tenant}/{policy}/oauth2/v2.0/token", s.serveToken)
	mux.HandleFunc("/{tenant}/{policy}/oauth2/v2.0/authorize", s.serveAuthorize)
	mux.HandleFunc("/{tenant}/{policy}/oauth2/v2.0/logout", s.serveLogout)
	mux.HandleFunc("/{tenant}/{policy}/oauth2/v2.0/webauthn.js", s.serveWebAuthnScript)
	mux.HandleFunc(ADFSDiscoveryPath, s.serveADFSDiscovery)
	mux.HandleFunc(InstanceDiscoveryPath, s.serveInstanceDiscovery)
	return mux
}

// Matches reports whether path is one of the service's endpoints, so a
// router can send those paths here and the rest elsewhere.
func Matches(path string) bool {
	if path == ADFSDiscoveryPath || path == InstanceDiscoveryPath {
		return true
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 2 || parts[0] == "" {
		return false
	}
	rest := strings.Join(parts[1:], "/")
	if len(parts) > 2 && isPolicySegment(parts[1]) {
		switch strings.Join(parts[2:], "/") {
		case "v2.0/.well-known/openid-configuration", "discovery/v2.0/keys", "oauth2/v2.0/token",
			"oauth2/v2.0/authorize", "oauth2/v2.0/logout", "oauth2/v2.0/webauthn.js":
			return true
		}
	}
	switch rest {
	case "v2.0/.well-known/openid-configuration", "discovery/v2.0/keys", "oauth2/v2.0/token",
		"oauth2/v2.0/authorize", "oauth2/v2.0/logout", "openid/userinfo", "oauth2/v2.0/webauthn.js", SecurityInfoPath:
		return true
	}
	return false
}

// authority returns the base URL ("https://host/") for a request.
func (s *Service) authority(r *http.Request) string {
	if len(s.opts.Hosts) > 0 && r.TLS != nil {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		for _, h := range s.opts.Hosts {
			if strings.EqualFold(h, host) || hostMatches(h, host) {
				return "https://" + host + "/"
			}
		}
	}
	if s.opts.AuthorityHost != "" {
		return s.opts.AuthorityHost
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host + "/"
}

// IssuerFor returns the issuer of the tokens of tenantID under authority,
// Entra's v2.0 form "{authority}{tenant}/v2.0".
func IssuerFor(authority, tenantID string) string {
	if !strings.HasSuffix(authority, "/") {
		authority += "/"
	}
	return authority + strings.ToLower(tenantID) + "/v2.0"
}

// NewID returns a new object ID: a lower-case GUID from Options.NewID.
func (s *Service) NewID() string { return strings.ToLower(s.opts.NewID()) }

// Now reads the service's clock.
func (s *Service) Now() time.Time { return s.opts.Now() }

// Rand is the service's source of randomness for secrets and salts.
func (s *Service) Rand() io.Reader { return s.opts.Rand }

// hostMatches reports whether host matches a "*.suffix" pattern: one
// non-empty label, then the suffix.
func hostMatches(pattern, host string) bool {
	suffix, ok := strings.CutPrefix(strings.ToLower(pattern), "*")
	if !ok || !strings.HasPrefix(suffix, ".") {
		return false
	}
	label, ok := strings.CutSuffix(host, suffix)
	return ok && label != "" && !strings.Contains(label, ".")
}
