package storageaccounts

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/storage"
)

func requirePost(call *cloud.Call) error {
	if call.Method != http.MethodPost {
		return arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '%s'.", call.Method)
	}
	return nil
}

// keysBody is the answer of listKeys and regenerateKey.
func keysBody(a storage.Account) map[string]any {
	keys := make([]any, 0, 2)
	for _, k := range a.Keys {
		keys = append(keys, map[string]any{"keyName": k.Name, "value": k.Value, "permissions": "FULL",
			"creationTime": k.Created.UTC().Format(time.RFC3339Nano)})
	}
	return map[string]any{"keys": keys}
}

// listKeys serves POST {account}/listKeys.
func (p *Provider) listKeys(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if err := requirePost(call); err != nil {
		return nil, err
	}
	a, err := p.account(ctx, call)
	if err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: keysBody(a)}, nil
}

// regenerateKey serves POST {account}/regenerateKey {"keyName":"key1"}.
func (p *Provider) regenerateKey(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if err := requirePost(call); err != nil {
		return nil, err
	}
	var body struct {
		KeyName string `json:"keyName"`
	}
	if err := call.Decode(&body); err != nil {
		return nil, err
	}
	if !strings.EqualFold(body.KeyName, "key1") && !strings.EqualFold(body.KeyName, "key2") {
		return nil, invalidParam("The keyName must be key1 or key2.")
	}
	a, err := p.account(ctx, call)
	if err != nil {
		return nil, err
	}
	if a, err = p.svc.RegenerateKey(ctx, a.Name, strings.ToLower(body.KeyName)); err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: keysBody(a)}, nil
}

// keyToSign picks the key a SAS request names (key1 by default).
func keyToSign(k string) (string, error) {
	switch strings.ToLower(k) {
	case "", "key1":
		return "key1", nil
	case "key2":
		return "key2", nil
	}
	return "", invalidParam("The keyToSign must be key1 or key2.")
}

// sasTime renders a requested start or expiry in the form SAS tokens
// carry (ISO 8601 to the second, UTC).
func sasTime(s string, required bool, field string) (string, error) {
	if s == "" {
		if required {
			return "", invalidParam("The %s is required.", field)
		}
		return "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", invalidParam("The %s '%s' is not an ISO 8601 time.", field, clipName(s))
	}
	return t.UTC().Format("2006-01-02T15:04:05Z"), nil
}

// listServiceSas serves POST {account}/ListServiceSas for tables
// (canonicalizedResource "/table/{account}/{table}").
func (p *Provider) listServiceSas(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if err := requirePost(call); err != nil {
		return nil, err
	}
	var b struct {
		CanonicalizedResource string `json:"canonicalizedResource"`
		SignedResource        string `json:"signedResource"`
		SignedPermission      string `json:"signedPermission"`
		SignedIP              string `json:"signedIp"`
		SignedProtocol        string `json:"signedProtocol"`
		SignedStart           string `json:"signedStart"`
		SignedExpiry          string `json:"signedExpiry"`
		SignedIdentifier      string `json:"signedIdentifier"`
		StartPk               string `json:"startPk"`
		EndPk                 string `json:"endPk"`
		StartRk               string `json:"startRk"`
		EndRk                 string `json:"endRk"`
		KeyToSign             string `json:"keyToSign"`
	}
	if err := call.Decode(&b); err != nil {
		return nil, err
	}
	a, err := p.account(ctx, call)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimPrefix(b.CanonicalizedResource, "/"), "/")
	if len(parts) != 3 || !strings.EqualFold(parts[0], "table") || !strings.EqualFold(parts[1], a.Name) || parts[2] == "" {
		return nil, invalidParam("Steward signs service SAS for tables only: the canonicalizedResource must be '/table/%s/{table}'.", a.Name)
	}
	if strings.Trim(b.SignedPermission, "raud") != "" || b.SignedPermission == "" && b.SignedIdentifier == "" {
		return nil, invalidParam("The signedPermission of a table SAS is made of r, a, u and d.")
	}
	key, err := keyToSign(b.KeyToSign)
	if err != nil {
		return nil, err
	}
	st, err := sasTime(b.SignedStart, false, "signedStart")
	if err != nil {
		return nil, err
	}
	se, err := sasTime(b.SignedExpiry, b.SignedIdentifier == "", "signedExpiry")
	if err != nil {
		return nil, err
	}
	tok, err := p.svc.SignService(ctx, a.Name, key, storage.ServiceSAS{Table: parts[2], Permission: b.SignedPermission,
		Start: st, Expiry: se, IP: b.SignedIP, Protocol: b.SignedProtocol, Identifier: b.SignedIdentifier,
		StartPK: b.StartPk, StartRK: b.StartRk, EndPK: b.EndPk, EndRK: b.EndRk})
	if err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: map[string]string{"serviceSasToken": tok}}, nil
}

// listAccountSas serves POST {account}/ListAccountSas.
func (p *Provider) listAccountSas(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if err := requirePost(call); err != nil {
		return nil, err
	}
	var b struct {
		SignedServices      string `json:"signedServices"`
		SignedResourceTypes string `json:"signedResourceTypes"`
		SignedPermission    string `json:"signedPermission"`
		SignedIP            string `json:"signedIp"`
		SignedProtocol      string `json:"signedProtocol"`
		SignedStart         string `json:"signedStart"`
		SignedExpiry        string `json:"signedExpiry"`
		KeyToSign           string `json:"keyToSign"`
	}
	if err := call.Decode(&b); err != nil {
		return nil, err
	}
	switch {
	case b.SignedServices == "" || strings.Trim(b.SignedServices, "bqtf") != "":
		return nil, invalidParam("The signedServices must be made of b, q, t and f.")
	case b.SignedResourceTypes == "" || strings.Trim(b.SignedResourceTypes, "sco") != "":
		return nil, invalidParam("The signedResourceTypes must be made of s, c and o.")
	case b.SignedPermission == "" || strings.Trim(b.SignedPermission, "rwdlacupfxyti") != "":
		return nil, invalidParam("The signedPermission must be made of r, w, d, l, a, c, u, p.")
	}
	a, err := p.account(ctx, call)
	if err != nil {
		return nil, err
	}
	key, err := keyToSign(b.KeyToSign)
	if err != nil {
		return nil, err
	}
	st, err := sasTime(b.SignedStart, false, "signedStart")
	if err != nil {
		return nil, err
	}
	se, err := sasTime(b.SignedExpiry, true, "signedExpiry")
	if err != nil {
		return nil, err
	}
	tok, err := p.svc.SignAccount(ctx, a.Name, key, storage.AccountSAS{Services: b.SignedServices, ResourceTypes: b.SignedResourceTypes,
		Permission: b.SignedPermission, Start: st, Expiry: se, IP: b.SignedIP, Protocol: b.SignedProtocol})
	if err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: map[string]string{"accountSasToken": tok}}, nil
}

// checkName serves POST /subscriptions/{s}/providers/Microsoft.Storage/
// checkNameAvailability {"name":"...","type":"Microsoft.Storage/storageAccounts"}.
func (p *Provider) checkName(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if err := call.Authorize(ctx, "Microsoft.Storage/checknameavailability/read", call.Target.Scope); err != nil {
		return nil, err
	}
	if call.Method != http.MethodPost {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST.")
	}
	var b struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if err := call.Decode(&b); err != nil {
		return nil, err
	}
	if !strings.EqualFold(b.Type, TypeAccount) {
		return nil, invalidParam("The type must be Microsoft.Storage/storageAccounts.")
	}
	if !storage.ValidAccountName(b.Name) {
		return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"nameAvailable": false, "reason": "AccountNameInvalid",
			"message": clipName(b.Name) + " is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."}}, nil
	}
	_, err := p.svc.Account(ctx, b.Name)
	switch {
	case errors.Is(err, storage.ErrNoAccount):
		return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"nameAvailable": true}}, nil
	case err != nil:
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"nameAvailable": false, "reason": "AlreadyExists",
		"message": "The storage account named " + b.Name + " is already taken."}}, nil
}
