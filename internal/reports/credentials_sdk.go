package reports

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// vaultAPIVersion is the Microsoft.KeyVault api-version vaults are read
// with (for their vaultUri).
const vaultAPIVersion = "2023-07-01"

// VaultCredentials lists one vault's secrets, keys (with their rotation
// policies) and certificates (with their auto-renew actions) through the
// Key Vault data plane at vaultURL; owner names the vault in the rows.
func VaultCredentials(ctx context.Context, vaultURL, owner string, cred azcore.TokenCredential, opts azcore.ClientOptions) ([]Credential, error) {
	var out []Credential
	at := func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
	sc, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		return nil, err
	}
	for p := sc.NewListSecretPropertiesPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Value {
			if s.Managed != nil && *s.Managed {
				continue // a certificate's secret: reported with the certificate
			}
			c := Credential{Kind: KindVaultSecret, Owner: owner, Name: s.ID.Name(), ID: string(*s.ID)}
			if a := s.Attributes; a != nil {
				c.Created, c.Expires, c.Enabled = at(a.Created), at(a.Expires), a.Enabled == nil || *a.Enabled
			}
			out = append(out, c)
		}
	}
	kc, err := azkeys.NewClient(vaultURL, cred, &azkeys.ClientOptions{ClientOptions: opts})
	if err != nil {
		return nil, err
	}
	for p := kc.NewListKeyPropertiesPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range page.Value {
			if k.Managed != nil && *k.Managed {
				continue
			}
			c := Credential{Kind: KindVaultKey, Owner: owner, Name: k.KID.Name(), ID: string(*k.KID), Rotatable: true}
			if a := k.Attributes; a != nil {
				c.Created, c.Expires, c.Enabled = at(a.Created), at(a.Expires), a.Enabled == nil || *a.Enabled
			}
			if pol, err := kc.GetKeyRotationPolicy(ctx, c.Name, nil); err == nil {
				for _, la := range pol.LifetimeActions {
					if la != nil && la.Action != nil && la.Action.Type != nil && strings.EqualFold(string(*la.Action.Type), "Rotate") {
						c.HasRotationPolicy = true
					}
				}
			}
			out = append(out, c)
		}
	}
	cc, err := azcertificates.NewClient(vaultURL, cred, &azcertificates.ClientOptions{ClientOptions: opts})
	if err != nil {
		return nil, err
	}
	for p := cc.NewListCertificatePropertiesPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, crt := range page.Value {
			c := Credential{Kind: KindVaultCertificate, Owner: owner, Name: crt.ID.Name(), ID: string(*crt.ID), Rotatable: true}
			if a := crt.Attributes; a != nil {
				c.Created, c.Expires, c.Enabled = at(a.Created), at(a.Expires), a.Enabled == nil || *a.Enabled
			}
			if pol, err := cc.GetCertificatePolicy(ctx, c.Name, nil); err == nil {
				for _, la := range pol.LifetimeActions {
					if la != nil && la.Action != nil && la.Action.ActionType != nil && *la.Action.ActionType == azcertificates.CertificatePolicyActionAutoRenew {
						c.HasRotationPolicy = true
					}
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// AppCredentials reads the password and certificate credentials of
// application registrations as Microsoft Graph returns them
// (/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials).
func AppCredentials(apps []map[string]any) []Credential {
	var out []Credential
	parse := func(v any) time.Time {
		s, _ := v.(string)
		t, _ := time.Parse(time.RFC3339Nano, s)
		return t
	}
	for _, a := range apps {
		objectID, _ := a["id"].(string)
		owner, _ := a["displayName"].(string)
		if owner == "" {
			owner, _ = a["appId"].(string)
		}
		for _, field := range []struct{ name, kind string }{{"passwordCredentials", KindAppPassword}, {"keyCredentials", KindAppCertificate}} {
			list, _ := a[field.name].([]any)
			for _, item := range list {
				m, _ := item.(map[string]any)
				name, _ := m["displayName"].(string)
				id, _ := m["keyId"].(string)
				if name == "" {
					name = id
				}
				out = append(out, Credential{Kind: field.kind, Owner: owner, Name: name, ID: id,
					Created: parse(m["startDateTime"]), Expires: parse(m["endDateTime"]), Enabled: true,
					Scope: AppCredentialScope(objectID, field.name, id)})
			}
		}
	}
	return out
}

// CredentialSource is where the credentials report reads the data planes:
// Key Vault (with DataOptions) and Microsoft Graph at GraphBase
// (".../v1.0").
type CredentialSource struct {
	Source
	DataOptions azcore.ClientOptions
	GraphBase   string
	// LastUsed, when set, returns when the object at the scope (a vault
	// object's resource ID: VAULT_ID/secrets/NAME, /keys/NAME or
	// /certificates/NAME; an application credential's AppCredentialScope)
	// was last used; zero when not seen.
	LastUsed func(scope string) time.Time
}

// CredentialsFrom runs the credentials report: every vault of the
// subscription (its vaultUri from Resource Manager, then its data plane)
// and every application registration of the directory.
func CredentialsFrom(ctx context.Context, src CredentialSource, now time.Time) ([]CredentialRow, error) {
	c, err := armresources.NewClient(src.Subscription, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	var creds []Credential
	p := c.NewListPager(&armresources.ClientListOptions{Filter: to.Ptr("resourceType eq 'Microsoft.KeyVault/vaults'")})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Value {
			full, err := c.GetByID(ctx, deref(r.ID), vaultAPIVersion, nil)
			if err != nil {
				return nil, err
			}
			props, _ := AsDoc(full.GenericResource)["properties"].(map[string]any)
			uri, _ := props["vaultUri"].(string)
			if uri == "" {
				return nil, fmt.Errorf("vault %s has no vaultUri", deref(r.ID))
			}
			got, err := VaultCredentials(ctx, strings.TrimSuffix(uri, "/"), deref(r.Name), src.Credential, src.DataOptions)
			if err != nil {
				return nil, fmt.Errorf("vault %s: %w", deref(r.Name), err)
			}
			if src.LastUsed != nil {
				for i := range got {
					got[i].LastUsed = src.LastUsed(deref(r.ID) + "/" + vaultCollection[got[i].Kind] + "/" + got[i].Name)
				}
			}
			creds = append(creds, got...)
		}
	}
	apps, err := graphList(ctx, src, src.GraphBase+"/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials")
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	for _, c := range AppCredentials(apps) {
		if src.LastUsed != nil && c.Scope != "" {
			c.LastUsed = src.LastUsed(c.Scope)
		}
		creds = append(creds, c)
	}
	return AssessCredentials(creds, now), nil
}

// ActionCredentialSignIn is the action of the usage records that the token
// endpoint leaves when an application credential authenticates (at the
// credential's AppCredentialScope, by the application's client ID). It is
// no Azure action: the access report does not judge it.
const ActionCredentialSignIn = "Steward/applications/credentials/signIn"

// AppCredentialScope names an application credential the way Microsoft
// Graph addresses its collection: /applications/{object id}/{collection}/
// {keyId}, the collection passwordCredentials, keyCredentials or
// federatedIdentityCredentials (whose id stands for the keyId). Empty when
// the object ID or key ID is.
func AppCredentialScope(appObjectID, collection, keyID string) string {
	if appObjectID == "" || keyID == "" {
		return ""
	}
	return "/applications/" + appObjectID + "/" + collection + "/" + keyID
}

// vaultCollection is the collection of a vault object's kind in its
// resource ID.
var vaultCollection = map[string]string{KindVaultSecret: "secrets", KindVaultKey: "keys", KindVaultCertificate: "certificates"}

// graphScope is the token scope of Microsoft Graph.
const graphScope = "https://graph.microsoft.com/.default"

// graphList pages through a Microsoft Graph collection.
func graphList(ctx context.Context, src CredentialSource, url string) ([]map[string]any, error) {
	pl := runtime.NewPipeline("steward-reports", "v1.0.0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(src.Credential, []string{graphScope}, nil)}}, &src.DataOptions)
	var all []map[string]any
	for url != "" {
		req, err := runtime.NewRequest(ctx, http.MethodGet, url)
		if err != nil {
			return nil, err
		}
		resp, err := pl.Do(req)
		if err != nil {
			return nil, err
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return nil, runtime.NewResponseError(resp)
		}
		var page struct {
			Value []map[string]any `json:"value"`
			Next  string           `json:"@odata.nextLink"`
		}
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		url = page.Next
	}
	return all, nil
}

// CredentialSignIns reads Microsoft Graph's credential sign-in report
// (beta reports/appCredentialSignInActivities) as operations at each
// credential's AppCredentialScope, for LastUsedByScope. Entries without
// an application object, key or sign-in time are skipped.
func CredentialSignIns(activities []map[string]any) []Operation {
	collection := map[string]string{"clientSecret": "passwordCredentials", "certificate": "keyCredentials"}
	var out []Operation
	for _, a := range activities {
		objectID, _ := a["appObjectId"].(string)
		keyID, _ := a["keyId"].(string)
		keyType, _ := a["keyType"].(string)
		appID, _ := a["appId"].(string)
		sign, _ := a["signInActivity"].(map[string]any)
		at, _ := sign["lastSignInDateTime"].(string)
		t, err := time.Parse(time.RFC3339Nano, at)
		scope := AppCredentialScope(objectID, collection[keyType], keyID)
		if err != nil || scope == "" || collection[keyType] == "" {
			continue
		}
		out = append(out, Operation{PrincipalID: appID, Action: ActionCredentialSignIn, Scope: scope, Time: t, Data: true})
	}
	return out
}
