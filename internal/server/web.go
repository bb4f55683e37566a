package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/vending"
	"github.com/steward-gov/steward/internal/web"
)

// Tables of the console: its app registration (the secret sealed) and its
// sessions (values sealed: they hold users' access tokens).
const (
	webTable        = "web"
	webSessionTable = "web.sessions"
)

// WebService mounts the console (internal/web) at /console/. It signs
// users in through the home tenant's OIDC endpoints as an ordinary web
// app, registered once, and reads the management API with each user's
// token. Mount CloudService first.
func WebService() Service {
	return func(ctx context.Context, s *Steward) error {
		id, err := s.consoleIdentity(ctx)
		if err != nil {
			return fmt.Errorf("web: %w", err)
		}
		if err := s.preauthorizeConsole(ctx, id.AppID); err != nil {
			return fmt.Errorf("web: %w", err)
		}
		c, err := web.New(web.Options{
			Issuer:   identity.IssuerFor(s.BaseURL, s.Bootstrap.TenantID),
			ClientID: id.AppID, ClientSecret: id.secret,
			BaseURL:    s.BaseURL + "console/",
			HTTPClient: &http.Client{Transport: s.Transport(), Timeout: 30 * time.Second},
			ARM:        &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()},
			Logs:       s.consoleLogsOptions(),
			Vending:    strings.TrimSuffix(s.BaseURL, "/") + "/vending/v1",
			Catalog:    strings.TrimSuffix(s.BaseURL, "/") + vending.CatalogPath,
			Sessions:   webSessions{s: s},
			Logger:     s.log.With("component", "web"),
		})
		if err != nil {
			return err
		}
		s.Server.Router.HandlePrefix("console", web.Prefix, c)
		return nil
	}
}

// consoleIdentity creates, once, the console's application with its web
// redirect URI and a client secret, kept sealed in the store.
func (s *Steward) consoleIdentity(ctx context.Context) (VendingIdentity, error) {
	var rec VendingIdentity
	err := s.Store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, webTable, "identity")
		if err != nil {
			return err
		}
		return json.Unmarshal(r.Value, &rec)
	})
	if err == nil {
		plain, err := s.Sealer.Open(ctx, "web/"+rec.AppID, rec.Sealed)
		if err != nil {
			return rec, err
		}
		rec.secret = string(plain)
		return rec, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return rec, err
	}
	tenant := s.Bootstrap.TenantID
	app, _, err := s.Identity.CreateApplication(ctx, tenant, "Steward console")
	if err != nil {
		return rec, err
	}
	redirects, _ := json.Marshal(map[string]any{"redirectUris": []string{s.BaseURL + "console/auth/callback"}})
	app.Properties = identity.Properties{"web": redirects}
	if err := s.Identity.Directory().PutApplication(ctx, app); err != nil {
		return rec, err
	}
	secret, _, err := s.Identity.AddClientSecret(ctx, tenant, app.AppID, "console", 10*365*24*time.Hour)
	if err != nil {
		return rec, err
	}
	sealed, err := s.Sealer.Seal("web/"+app.AppID, []byte(secret))
	if err != nil {
		return rec, err
	}
	rec = VendingIdentity{AppID: app.AppID, Sealed: sealed, secret: secret}
	b, _ := json.Marshal(rec)
	return rec, s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, webTable, "identity", b, store.Cond{})
		return err
	})
}

// webSessions keeps the console's sessions in the store, sealed.
type webSessions struct{ s *Steward }

func (w webSessions) Get(ctx context.Context, key string) ([]byte, error) {
	var sealed []byte
	err := w.s.Store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, webSessionTable, key)
		if err != nil {
			return err
		}
		sealed = r.Value
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, web.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return w.s.Sealer.Open(ctx, "web/sessions/"+key, sealed)
}

func (w webSessions) Put(ctx context.Context, key string, value []byte) error {
	sealed, err := w.s.Sealer.Seal("web/sessions/"+key, value)
	if err != nil {
		return err
	}
	return w.s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, webSessionTable, key, sealed, store.Cond{})
		return err
	})
}

func (w webSessions) Delete(ctx context.Context, key string) error {
	err := w.s.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(ctx, webSessionTable, key, store.Cond{}) })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// consoleLogsOptions reaches the Log Analytics query API at /v1 with a
// token for its audience.
func (s *Steward) consoleLogsOptions() *azlogs.ClientOptions {
	armOpts := s.ARMClientOptions()
	return &azlogs.ClientOptions{ClientOptions: azcore.ClientOptions{
		Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: s.BaseURL, Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azlogs.ServiceName: {Endpoint: strings.TrimSuffix(s.BaseURL, "/") + "/v1", Audience: LogAnalyticsAudience}}},
		Transport: s.Transport(), Retry: armOpts.Retry}}
}

// consoleVendingScope is the delegated scope the vending API exposes for
// the console.
const consoleVendingScope = "user_impersonation"

// preauthorizeConsole lets the console act as its users on the vending API
// when it is mounted (mount VendingService first): the API's application
// exposes the delegated scope user_impersonation and lists the console
// among its preAuthorizedApplications, as Entra's first-party apps are, so
// users are not asked to consent. It is idempotent.
func (s *Steward) preauthorizeConsole(ctx context.Context, consoleAppID string) error {
	tenant := s.Bootstrap.TenantID
	dir := s.Identity.Directory()
	if ok, err := dir.HasResource(ctx, tenant, VendingAudience); err != nil || !ok {
		return err
	}
	appID, err := dir.ResourceOwner(ctx, tenant, VendingAudience)
	if err != nil {
		return err
	}
	app, err := dir.Application(ctx, tenant, appID)
	if err != nil {
		return err
	}
	api := map[string]any{}
	if raw, ok := app.Properties["api"]; ok {
		if err := json.Unmarshal(raw, &api); err != nil {
			return fmt.Errorf("api of the vending application: %w", err)
		}
	}
	scopes, _ := api["oauth2PermissionScopes"].([]any)
	scopeID := ""
	for _, sc := range scopes {
		if m, ok := sc.(map[string]any); ok && m["value"] == consoleVendingScope {
			scopeID, _ = m["id"].(string)
		}
	}
	if scopeID == "" {
		scopeID = uuid.NewString()
		scopes = append(scopes, map[string]any{"id": scopeID, "value": consoleVendingScope, "type": "User", "isEnabled": true,
			"adminConsentDisplayName": "Use the vending API as the signed-in user",
			"userConsentDisplayName":  "Request resource groups and decide approvals as you"})
	}
	pre, _ := api["preAuthorizedApplications"].([]any)
	for _, p := range pre {
		if m, ok := p.(map[string]any); ok && strings.EqualFold(fmt.Sprint(m["appId"]), consoleAppID) {
			return nil
		}
	}
	api["oauth2PermissionScopes"] = scopes
	api["preAuthorizedApplications"] = append(pre, map[string]any{"appId": consoleAppID, "delegatedPermissionIds": []string{scopeID}})
	b, err := json.Marshal(api)
	if err != nil {
		return err
	}
	if app.Properties == nil {
		app.Properties = identity.Properties{}
	}
	app.Properties["api"] = b
	return dir.PutApplication(ctx, app)
}
