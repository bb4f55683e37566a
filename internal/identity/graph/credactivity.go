package graph

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

// credActivityBeta is the path, under /beta/, of Graph's report of
// application credential sign-ins (reportRoot's
// appCredentialSignInActivities, a beta API).
const credActivityBeta = "reports/appcredentialsigninactivities"

// CredentialActivityFunc returns when each application credential last
// signed in, keyed by its lowered scope /applications/{object id}/
// {passwordCredentials|keyCredentials}/{keyId}. The server reads it from
// its data-plane use records.
type CredentialActivityFunc func(ctx context.Context) (map[string]time.Time, error)

var credActivityType = typeInfo{name: "appCredentialSignInActivity", set: "reports/appCredentialSignInActivities",
	filterable: []string{"id", "keyId", "keyType", "appId", "appObjectId", "servicePrincipalObjectId", "credentialOrigin"},
	orderable:  []string{"keyId", "appId", "createdDateTime", "expirationDateTime"}}

// isCredActivityPath reports whether rest (the path after /beta/) is the
// credential sign-in report or one of its entries.
func isCredActivityPath(rest string) bool {
	l := strings.ToLower(strings.TrimSuffix(rest, "/"))
	return l == credActivityBeta || strings.HasPrefix(l, credActivityBeta+"/")
}

// credActivityID is the entry's id as Entra forms it: base64 of
// "{keyId}|application".
func credActivityID(keyID string) string {
	return base64.StdEncoding.EncodeToString([]byte(keyID + "|application"))
}

// credentialActivities serves GET reports/appCredentialSignInActivities
// (the list, with $filter, $top, $orderby and paging) and GET of one
// entry by id: one entry per password or certificate credential of the
// tenant's applications that has signed in. Reading takes Reports Reader,
// Global Reader or Global Administrator.
func (c *call) credentialActivities(seg []string) error {
	if len(seg) > 1 {
		return noRoute(c.r)
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed(c.r)
	}
	if !c.has(identity.RoleReportsReader, identity.RoleGlobalReader) {
		return denied()
	}
	if c.h.opts.CredentialActivity == nil {
		return gerr(http.StatusNotImplemented, "NotImplemented", "This Steward serves no credential sign-in records.")
	}
	signIns, err := c.h.opts.CredentialActivity(c.ctx)
	if err != nil {
		return err
	}
	apps, err := c.h.dir.Applications(c.ctx, c.tenant)
	if err != nil {
		return err
	}
	sps, err := c.h.dir.ServicePrincipals(c.ctx, c.tenant)
	if err != nil {
		return err
	}
	spOf := map[string]string{}
	for _, sp := range sps {
		spOf[strings.ToLower(sp.AppID)] = sp.ID
	}
	var items []map[string]any
	add := func(a identity.Application, collection, keyType, keyID, usage string, created, expires time.Time) {
		last, ok := signIns[strings.ToLower("/applications/"+a.ObjectID+"/"+collection+"/"+keyID)]
		if !ok {
			return
		}
		items = append(items, map[string]any{
			"id": credActivityID(keyID), "keyId": keyID, "keyType": keyType, "keyUsage": nullable(strings.ToLower(usage)),
			"appId": a.AppID, "appObjectId": a.ObjectID, "servicePrincipalObjectId": nullable(spOf[strings.ToLower(a.AppID)]),
			"resourceId": nil, "credentialOrigin": "application",
			"createdDateTime": timeOrZero(created), "expirationDateTime": timeOrZero(expires),
			"signInActivity": map[string]any{"lastSignInDateTime": last.UTC().Format(time.RFC3339Nano), "lastSignInRequestId": nil},
		})
	}
	for _, a := range apps {
		for _, p := range a.PasswordCredentials {
			add(a, "passwordCredentials", "clientSecret", p.KeyID, "", p.StartDateTime, p.EndDateTime)
		}
		for _, k := range a.KeyCredentials {
			add(a, "keyCredentials", "certificate", k.KeyID, k.Usage, k.StartDateTime, k.EndDateTime)
		}
	}
	if len(seg) == 1 {
		for _, it := range items {
			if it["id"] == seg[0] {
				return c.one(credActivityType, it, http.StatusOK)
			}
		}
		return notFound(seg[0])
	}
	return c.list(credActivityType, items, credActivityType.set)
}
