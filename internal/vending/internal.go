package vending

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/vault/assertion"
)

// Paths of the internal API.
const (
	InternalPrefix     = "/vending/internal/v1/"
	ValetKeyPath       = InternalPrefix + "valetKey"
	ExecutionTokenPath = InternalPrefix + "executionToken"
	CatalogPath        = InternalPrefix + "catalog"
	ConsentPath        = InternalPrefix + "consent"
)

// ValetKey is a set of table SAS URLs (Get-ValetkeyForAzureTableRead):
// read-only on the catalog tables; read, add and update on the requests
// table, where the public API records who asked for what.
type ValetKey struct {
	Tables    map[string]string `json:"tables"`
	ExpiresOn time.Time         `json:"expiresOn"`
}

// Open opens one of the key's tables with aztables.
func (k ValetKey) Open(opts *aztables.ClientOptions) TableClient {
	return func(table string) (*aztables.Client, error) {
		u, ok := k.Tables[table]
		if !ok {
			return nil, fmt.Errorf("vending: the valet key does not open table %s", table)
		}
		return aztables.NewClientWithNoCredential(u, opts)
	}
}

// Internal is the internal API. Its identity (Credential) may list the
// catalog storage account's keys and read the execution contexts' vaults;
// it answers only the applications in AllowedApps (the public API's
// identity), and the catalog API only the platform team (AdminApps,
// AdminGroups).
type Internal struct {
	Credential azcore.TokenCredential
	ARM        *azarm.ClientOptions
	// Account is the catalog storage account's resource ID and
	// TableEndpoint its Table service endpoint ("https://…/").
	Account, TableEndpoint string
	Tables                 *aztables.ClientOptions
	// Vaults are the options of the vault clients (certificates and keys).
	Vaults azcore.ClientOptions
	// SignIn are the options execution contexts sign in with, against
	// AuthorityHost (the token service); ARMScope the scope their tokens
	// are for.
	SignIn        azcore.ClientOptions
	AuthorityHost string
	ARMScope      string
	// KeyLifetime is how long a valet key lasts (default 5 minutes).
	KeyLifetime time.Duration
	AllowedApps []string
	AdminApps   []string
	// AdminGroups are the platform team's groups: their members may read
	// and, freshly signed in with multifactor authentication, change the
	// catalog with their own tokens (a step-up otherwise, as approvals).
	AdminGroups []string
	// AuthorizationURI and AuthContext make the step-up's claims
	// challenge (see Public).
	AuthorizationURI, AuthContext string
	Caller                        func(*http.Request) (Caller, bool)
	Now                           func() time.Time
	// Consent, when set, gives the internal identity a service principal
	// in another tenant (as that tenant's admin consent does) and returns
	// its object ID there; the platform team calls it through
	// POST {ConsentPath}.
	Consent func(ctx context.Context, tenantID string) (string, error)

	mu sync.Mutex
	// cred is the account key, listed at most once a minute (keyAt).
	cred  *aztables.SharedKeyCredential
	keyAt time.Time
	// signIns are the execution contexts' credentials, which cache their
	// tokens, by execution context.
	signIns map[ExecutionContext]azcore.TokenCredential
}

// keyReuse is how long a listed account key is reused: a rotated key is
// picked up within it.
const keyReuse = time.Minute

func (in *Internal) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// sharedKey returns the account's key credential, listed through
// armstorage with the internal identity, and a table opener signed with it.
func (in *Internal) sharedKey(ctx context.Context) (TableClient, *aztables.SharedKeyCredential, error) {
	in.mu.Lock()
	cred, at := in.cred, in.keyAt
	in.mu.Unlock()
	if cred == nil || time.Since(at) > keyReuse {
		var err error
		if cred, err = in.listKey(ctx); err != nil {
			return nil, nil, err
		}
		in.mu.Lock()
		in.cred, in.keyAt = cred, time.Now()
		in.mu.Unlock()
	}
	base := in.tableBase()
	return func(table string) (*aztables.Client, error) {
		return aztables.NewClientWithSharedKey(base+table, cred, in.Tables)
	}, cred, nil
}

// listKey lists the account's first key through armstorage.
func (in *Internal) listKey(ctx context.Context) (*aztables.SharedKeyCredential, error) {
	rid, err := arm.ParseResourceID(in.Account)
	if err != nil {
		return nil, fmt.Errorf("vending: catalog account: %w", err)
	}
	ac, err := armstorage.NewAccountsClient(rid.SubscriptionID, in.Credential, in.ARM)
	if err != nil {
		return nil, err
	}
	keys, err := ac.ListKeys(ctx, rid.ResourceGroup, rid.Name(), nil)
	if err != nil {
		return nil, fmt.Errorf("vending: listing the catalog account's keys: %w", short(err))
	}
	if len(keys.Keys) == 0 || keys.Keys[0].Value == nil {
		return nil, fmt.Errorf("vending: the catalog account has no key")
	}
	return aztables.NewSharedKeyCredential(rid.Name(), *keys.Keys[0].Value)
}

func (in *Internal) tableBase() string { return strings.TrimSuffix(in.TableEndpoint, "/") + "/" }

// Writer is the platform team's catalog writer, signed with the account
// key.
func (in *Internal) Writer(ctx context.Context) (Writer, error) {
	open, _, err := in.sharedKey(ctx)
	if err != nil {
		return Writer{}, err
	}
	return Writer{Open: open, Now: in.Now}, nil
}

// ValetKey issues a valet key.
func (in *Internal) ValetKey(ctx context.Context) (ValetKey, error) {
	_, cred, err := in.sharedKey(ctx)
	if err != nil {
		return ValetKey{}, err
	}
	life := in.KeyLifetime
	if life <= 0 {
		life = 5 * time.Minute
	}
	now := in.now().UTC()
	k := ValetKey{Tables: map[string]string{}, ExpiresOn: now.Add(life).Truncate(time.Second)}
	for _, t := range append(slices.Clone(CatalogTables), TableRequests) {
		perm := aztables.SASPermissions{Read: true}
		if t == TableRequests {
			perm.Add, perm.Update = true, true
		}
		// Signed here rather than with Client.GetTableSASURL, which drops
		// the path of a path-style endpoint (Steward's, Azurite's). Start
		// a minute back, for clock skew between here and the service.
		qps, err := aztables.SASSignatureValues{TableName: t, Permissions: perm.String(),
			StartTime: now.Add(-time.Minute), ExpiryTime: k.ExpiresOn}.Sign(cred)
		if err != nil {
			return ValetKey{}, err
		}
		u := in.tableBase() + t + "?" + qps
		k.Tables[t] = u
	}
	return k, nil
}

// ExecutionToken signs in as the subscription's execution context and
// returns its ARM token. The credential is a certificate of the
// subscription's own vault: the client assertion is signed there
// (azkeys Sign), so no key or secret ever leaves the vault.
func (in *Internal) ExecutionToken(ctx context.Context, subscriptionID string) (azcore.AccessToken, error) {
	open, _, err := in.sharedKey(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	cat, err := ReadCatalog(ctx, open)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	sub, ok := cat.Subscriptions[strings.ToLower(subscriptionID)]
	if !ok {
		return azcore.AccessToken{}, arm.NotFound("SubscriptionNotFound", "The subscription '%s' is not in the catalog.", clip(subscriptionID))
	}
	cred, err := in.signIn(sub.Execution)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{in.ARMScope}, TenantID: sub.Execution.TenantID})
	if err != nil {
		return azcore.AccessToken{}, fmt.Errorf("vending: signing in as the execution context of %s: %w", sub.ID, err)
	}
	return tok, nil
}

// signIn returns the credential of an execution context, made once: it
// caches its tokens, so the vault signs an assertion once per token.
func (in *Internal) signIn(e ExecutionContext) (azcore.TokenCredential, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.signIns[e]; ok {
		return c, nil
	}
	keys, err := azkeys.NewClient(e.VaultURL, in.Credential, &azkeys.ClientOptions{ClientOptions: in.Vaults})
	if err != nil {
		return nil, err
	}
	certs, err := azcertificates.NewClient(e.VaultURL, in.Credential, &azcertificates.ClientOptions{ClientOptions: in.Vaults})
	if err != nil {
		return nil, err
	}
	sign := assertion.New(assertion.Config{Keys: keys, Certificates: certs, Certificate: e.CertificateName,
		AuthorityHost: in.AuthorityHost, TenantID: e.TenantID, ClientID: e.ClientID, Now: in.Now})
	cred, err := azidentity.NewClientAssertionCredential(e.TenantID, e.ClientID, sign,
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: in.SignIn, DisableInstanceDiscovery: true})
	if err != nil {
		return nil, err
	}
	if in.signIns == nil {
		in.signIns = map[ExecutionContext]azcore.TokenCredential{}
	}
	in.signIns[e] = cred
	return cred, nil
}

func member(who Caller, apps, groups []string) bool {
	if who.App && slices.Contains(apps, who.AppID) {
		return true
	}
	for _, g := range who.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// ServeHTTP serves the internal API.
func (in *Internal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	who, ok := in.Caller(r)
	if !ok {
		arm.WriteError(w, arm.Errorf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed."))
		return
	}
	switch {
	case r.URL.Path == ValetKeyPath || r.URL.Path == ExecutionTokenPath:
		if !member(who, in.AllowedApps, nil) {
			arm.WriteError(w, arm.Errorf(http.StatusForbidden, "AuthorizationFailed",
				"The client '%s' may not call the internal vending API; only the public API's identity may.", who.ObjectID))
			return
		}
		if r.Method != http.MethodPost {
			arm.WriteError(w, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST."))
			return
		}
		if r.URL.Path == ValetKeyPath {
			k, err := in.ValetKey(r.Context())
			writeResult(w, http.StatusOK, k, err)
			return
		}
		var body struct {
			SubscriptionID string `json:"subscriptionId"`
		}
		if err := decode(r, &body); err != nil {
			arm.WriteError(w, err)
			return
		}
		tok, err := in.ExecutionToken(r.Context(), body.SubscriptionID)
		writeResult(w, http.StatusOK, map[string]any{"accessToken": tok.Token, "expiresOn": tok.ExpiresOn.UTC()}, err)
	case r.URL.Path == ConsentPath:
		if !member(who, in.AdminApps, in.AdminGroups) {
			arm.WriteError(w, arm.Errorf(http.StatusForbidden, "AuthorizationFailed",
				"The client '%s' may not consent for the vending service; only the platform team may.", who.ObjectID))
			return
		}
		if r.Method != http.MethodPost || in.Consent == nil {
			arm.WriteError(w, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST %s with {\"tenantId\"}.", ConsentPath))
			return
		}
		var body struct {
			TenantID string `json:"tenantId"`
		}
		if err := decode(r, &body); err != nil {
			arm.WriteError(w, err)
			return
		}
		if !isGUID(body.TenantID) {
			arm.WriteError(w, arm.BadRequest("InvalidTenantId", "The tenantId '%s' is not a GUID.", clip(body.TenantID)))
			return
		}
		oid, err := in.Consent(r.Context(), strings.ToLower(body.TenantID))
		writeResult(w, http.StatusOK, map[string]string{"tenantId": strings.ToLower(body.TenantID), "principalId": oid}, err)
	case r.URL.Path == CatalogPath || strings.HasPrefix(r.URL.Path, CatalogPath+"/"):
		if !member(who, in.AdminApps, in.AdminGroups) {
			arm.WriteError(w, arm.Errorf(http.StatusForbidden, "AuthorizationFailed",
				"The client '%s' may not change the vending catalog; only the platform team may.", who.ObjectID))
			return
		}
		in.serveCatalog(w, r, who)
	default:
		arm.WriteError(w, arm.NotFound("NotFound", "No vending API at %s.", clip(r.URL.Path)))
	}
}

// serveCatalog serves the platform team's catalog API: GET .../catalog,
// PUT .../catalog/subscriptions and .../catalog/authorizations.
func (in *Internal) serveCatalog(w http.ResponseWriter, r *http.Request, who Caller) {
	ctx := r.Context()
	if r.Method != http.MethodGet && !who.App && !steppedUp(who, in.now()) {
		writeClaimsChallenge(w, who, in.AuthorizationURI, in.AuthContext, "Changing the vending catalog")
		return
	}
	wr, err := in.Writer(ctx)
	if err != nil {
		arm.WriteError(w, err)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, CatalogPath)
	switch {
	case r.Method == http.MethodGet && rest == "":
		cat, err := ReadCatalog(ctx, wr.Open)
		if err != nil {
			arm.WriteError(w, err)
			return
		}
		subs := make([]Subscription, 0, len(cat.Subscriptions))
		for _, s := range cat.Subscriptions {
			subs = append(subs, s)
		}
		slices.SortFunc(subs, func(a, b Subscription) int { return strings.Compare(a.ID, b.ID) })
		writeResult(w, http.StatusOK, map[string]any{"subscriptions": subs, "authorizations": nonNil(cat.Authorizations)}, nil)
	case r.Method == http.MethodPut && rest == "/subscriptions":
		var s Subscription
		if err := decode(r, &s); err != nil {
			arm.WriteError(w, err)
			return
		}
		writeResult(w, http.StatusOK, &s, wr.PutSubscription(ctx, who.ObjectID, s))
	case r.Method == http.MethodPut && rest == "/authorizations":
		var a Authorization
		if err := decode(r, &a); err != nil {
			arm.WriteError(w, err)
			return
		}
		writeResult(w, http.StatusOK, &a, wr.PutAuthorization(ctx, who.ObjectID, a))
	default:
		arm.WriteError(w, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The catalog API has GET %s and PUT %s/subscriptions, %s/authorizations.", CatalogPath, CatalogPath, CatalogPath))
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// decode reads a bounded JSON body, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return arm.BadRequest("InvalidRequestContent", "The request body could not be read: %s.", clip(err.Error()))
	}
	return nil
}

func writeResult(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		if arm.AsError(err).Status >= 500 {
			// Failures of the cloud below are the service's, with their
			// message (no secrets are in them: the SDK names the operation).
			err = arm.Errorf(http.StatusBadGateway, "UpstreamFailure", "%s", clip(err.Error()))
		}
		arm.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
