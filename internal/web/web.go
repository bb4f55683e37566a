// Package web is Steward's console: server-rendered pages for people. It is
// an application like any other: it signs users in through the OpenID
// Connect endpoints of the token service (golang.org/x/oauth2 and
// coreos/go-oidc, nothing of internal/identity), keeps its sessions
// server-side behind an interface the host implements, and reads the cloud
// through the Azure SDK for Go with the signed-in user's own token, so the
// management API's RBAC decides what each user sees and may change.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

// StepUpContext is the authentication context the console asks for before
// a sensitive change, and StepUpMaxAge how recent the second factor must be.
const (
	StepUpContext = "c1"
	StepUpMaxAge  = 10 * time.Minute
)

// ErrNotFound is returned by a [Sessions] Get for a missing key.
var ErrNotFound = errors.New("web: session not found")

// Sessions keeps the console's server-side state: sign-in attempts and
// sessions, JSON values by key. Values hold access tokens, so an
// implementation seals them at rest. It is safe for concurrent use.
type Sessions interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

// Options configures a [Console].
type Options struct {
	// Issuer is the OIDC issuer the users sign in with
	// ("https://host/{tenant}/v2.0"); its discovery document is read on
	// first use.
	Issuer string
	// ClientID and ClientSecret are the console's app registration; its
	// web redirect URI is BaseURL + "auth/callback".
	ClientID, ClientSecret string
	// BaseURL is the console's public URL, ending in Prefix.
	BaseURL string
	// HTTPClient reaches the token service (default http.DefaultClient).
	HTTPClient *http.Client
	// ARM is how the console reaches the management API (endpoint,
	// transport); the credential is the user's token.
	ARM *arm.ClientOptions
	// Logs is how the console reaches the Log Analytics query API
	// (endpoint, audience, transport); the credential is the user's.
	Logs *azlogs.ClientOptions
	// Vending is the vending API's base URL (".../vending/v1"); empty
	// when it is not served.
	Vending string
	// Catalog is the vending catalog API's URL (".../catalog"), which
	// answers the platform team; empty when it is not served.
	Catalog string
	// ARMScope is the scope of the user's management API token.
	ARMScope string
	Sessions Sessions
	// Now is the clock (default time.Now); Logger receives events, never
	// tokens (default: discard).
	Now    func() time.Time
	Logger *slog.Logger
}

// Console serves the console's pages under [Prefix].
type Console struct {
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	provider *oidc.Provider
	// refreshMu serializes refresh token redemptions (they rotate).
	refreshMu sync.Mutex
}

// New returns a console with opts' defaults filled in.
func New(opts Options) (*Console, error) {
	if opts.Issuer == "" || opts.ClientID == "" || opts.BaseURL == "" || opts.Sessions == nil {
		return nil, errors.New("web: Issuer, ClientID, BaseURL and Sessions are required")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ARMScope == "" {
		opts.ARMScope = "https://management.azure.com/user_impersonation"
	}
	c := &Console{opts: opts, mux: http.NewServeMux()}
	c.mux.HandleFunc("GET "+Prefix+"{$}", c.page(c.overview))
	c.mux.HandleFunc("GET "+Prefix+"signin", c.signIn)
	c.mux.HandleFunc("GET "+Prefix+"auth/callback", c.callback)
	c.mux.HandleFunc("POST "+Prefix+"signout", c.page(c.signOut))
	c.mux.HandleFunc("GET "+Prefix+"security", c.page(c.security))
	c.mux.HandleFunc("GET "+Prefix+"alerts", c.page(c.alertsPage))
	c.mux.HandleFunc("POST "+Prefix+"alerts/state", c.page(c.alertChange))
	c.mux.HandleFunc("GET "+Prefix+"kql", c.page(c.kqlPage))
	c.mux.HandleFunc("GET "+Prefix+"vending", c.page(c.vendingPage))
	c.mux.HandleFunc("GET "+Prefix+"credentials", c.page(c.credentialsPage))
	c.mux.HandleFunc("POST "+Prefix+"vending/decide", c.page(c.vendingDecide))
	c.mux.HandleFunc("POST "+Prefix+"kql", c.page(c.kqlPage))
	c.mux.HandleFunc("GET "+Prefix+"compliance/assignment", c.page(c.complianceAssignment))
	c.mux.HandleFunc("GET "+Prefix+"compliance/resource", c.page(c.complianceResource))
	c.mux.HandleFunc("GET "+Prefix+"access", c.page(c.accessPage))
	c.mux.HandleFunc("GET "+Prefix+"delegation", c.page(c.delegationPage))
	c.mux.HandleFunc("GET "+Prefix+"roles", c.page(c.rolesPage))
	c.mux.HandleFunc("GET "+Prefix+"catalog", c.page(c.catalogPage))
	c.mux.HandleFunc("POST "+Prefix+"catalog/authorize", c.page(c.catalogAuthorize))
	c.mux.HandleFunc("POST "+Prefix+"roles/assign", c.page(c.roleAssign))
	return c, nil
}

// ServeHTTP implements http.Handler with the console's security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'sha256-"+styleHash+"'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.opts.HTTPClient), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, c.opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("web: discovery of %s: %w", c.opts.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *Console) oauth(p *oidc.Provider) oauth2.Config {
	return oauth2.Config{ClientID: c.opts.ClientID, ClientSecret: c.opts.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.opts.BaseURL + "auth/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, c.opts.ARMScope}}
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(kind, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return kind + "/" + hex.EncodeToString(sum[:])
}

func (c *Console) put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.opts.Sessions.Put(ctx, key, b)
}

func (c *Console) get(ctx context.Context, key string, v any) (bool, error) {
	b, err := c.opts.Sessions.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

// localPath keeps a return path inside the console.
func localPath(p string) string {
	if !strings.HasPrefix(p, Prefix) || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return Prefix
	}
	return p
}
