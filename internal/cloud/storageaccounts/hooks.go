package storageaccounts

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/storage"
)

// The SKUs and kinds the Storage provider accepts.
var (
	skuNames = map[string]string{"standard_lrs": "Standard_LRS", "standard_grs": "Standard_GRS", "standard_ragrs": "Standard_RAGRS",
		"standard_zrs": "Standard_ZRS", "premium_lrs": "Premium_LRS", "premium_zrs": "Premium_ZRS", "standard_gzrs": "Standard_GZRS",
		"standard_ragzrs": "Standard_RAGZRS"}
	kinds = map[string]string{"storage": "Storage", "storagev2": "StorageV2", "blobstorage": "BlobStorage",
		"filestorage": "FileStorage", "blockblobstorage": "BlockBlobStorage"}
	tlsVersions = map[string]bool{"TLS1_0": true, "TLS1_1": true, "TLS1_2": true, "TLS1_3": true}
)

func invalidParam(format string, args ...any) error {
	return arm.BadRequest("InvalidValuesForRequestParameters", format, args...)
}

// putHook validates a PUT or PATCH of an account, fills in the properties
// the provider computes and registers the account with the data plane
// (creating its keys on first write).
func (p *Provider) putHook(ctx context.Context, id string, doc, existing map[string]any) error {
	name, _ := doc["name"].(string)
	if !storage.ValidAccountName(name) {
		return arm.BadRequest("AccountNameInvalid",
			"%s is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.", clipName(name))
	}
	sku, _ := doc["sku"].(map[string]any)
	skuName, _ := sku["name"].(string)
	canon, ok := skuNames[strings.ToLower(skuName)]
	if !ok {
		return invalidParam("The sku name '%s' is not valid; use one of Standard_LRS, Standard_GRS, Standard_RAGRS, Standard_ZRS, Premium_LRS, Premium_ZRS, Standard_GZRS, Standard_RAGZRS.", clipName(skuName))
	}
	tier := "Standard"
	if strings.HasPrefix(canon, "Premium") {
		tier = "Premium"
	}
	doc["sku"] = map[string]any{"name": canon, "tier": tier}
	kind, _ := doc["kind"].(string)
	kindCanon, ok := kinds[strings.ToLower(kind)]
	if !ok {
		return invalidParam("The kind '%s' is not valid; use one of Storage, StorageV2, BlobStorage, FileStorage, BlockBlobStorage.", clipName(kind))
	}
	doc["kind"] = kindCanon
	props, _ := doc["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	old := map[string]any{}
	if existing != nil {
		if op, ok := existing["properties"].(map[string]any); ok {
			old = op
		}
	}
	boolProp := func(key string, def bool) (bool, error) {
		v, present := props[key]
		if !present || v == nil {
			props[key] = def
			return def, nil
		}
		b, ok := v.(bool)
		if !ok {
			return false, invalidParam("The property '%s' must be true or false.", key)
		}
		return b, nil
	}
	httpsOnly, err := boolProp("supportsHttpsTrafficOnly", true)
	if err != nil {
		return err
	}
	sharedKey, err := boolProp("allowSharedKeyAccess", true)
	if err != nil {
		return err
	}
	if _, err := boolProp("allowBlobPublicAccess", false); err != nil {
		return err
	}
	if _, err := boolProp("isHnsEnabled", false); err != nil {
		return err
	}
	tls, present := props["minimumTlsVersion"]
	if !present || tls == nil {
		props["minimumTlsVersion"] = "TLS1_2"
	} else if s, ok := tls.(string); !ok || !tlsVersions[s] {
		return invalidParam("The property 'minimumTlsVersion' must be one of TLS1_0, TLS1_1, TLS1_2, TLS1_3.")
	}
	if err := networkACLs(props); err != nil {
		return err
	}
	if kindCanon == "StorageV2" || kindCanon == "BlobStorage" {
		if t, ok := props["accessTier"].(string); !ok || t == "" {
			props["accessTier"] = "Hot"
		} else if t != "Hot" && t != "Cool" && t != "Cold" && t != "Premium" {
			return invalidParam("The property 'accessTier' must be Hot, Cool, Cold or Premium.")
		}
	}
	created, _ := old["creationTime"].(string)
	if created == "" {
		created = p.c.Now().Format("2006-01-02T15:04:05.0000000Z")
	}
	loc, _ := doc["location"].(string)
	_, err = p.svc.EnsureAccount(ctx, name, storage.Settings{ResourceID: id, AllowSharedKeyAccess: sharedKey, HTTPSOnly: httpsOnly})
	if errors.Is(err, storage.ErrAccountTaken) {
		return arm.Errorf(http.StatusConflict, "StorageAccountAlreadyTaken", "The storage account named %s is already taken.", name)
	}
	if err != nil {
		return err
	}
	acct, err := p.svc.Account(ctx, name)
	if err != nil {
		return err
	}
	if _, ok := props["encryption"]; !ok {
		props["encryption"] = map[string]any{"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": false,
			"services": map[string]any{
				"blob":  map[string]any{"enabled": true, "keyType": "Account", "lastEnabledTime": created},
				"file":  map[string]any{"enabled": true, "keyType": "Account", "lastEnabledTime": created},
				"table": map[string]any{"enabled": true, "keyType": "Service", "lastEnabledTime": created},
				"queue": map[string]any{"enabled": true, "keyType": "Service", "lastEnabledTime": created}}}
	}
	props["keyCreationTime"] = map[string]any{"key1": acct.Keys[0].Created.Format(time.RFC3339Nano), "key2": acct.Keys[1].Created.Format(time.RFC3339Nano)}
	props["provisioningState"] = "Succeeded"
	props["creationTime"] = created
	props["primaryLocation"] = loc
	props["statusOfPrimary"] = "available"
	props["primaryEndpoints"] = p.endpoints(name)
	doc["properties"] = props
	return nil
}

// networkACLs checks networkAcls and fills in Azure's default (allow all,
// bypass AzureServices).
func networkACLs(props map[string]any) error {
	v, present := props["networkAcls"]
	if !present || v == nil {
		props["networkAcls"] = map[string]any{"bypass": "AzureServices", "virtualNetworkRules": []any{}, "ipRules": []any{}, "defaultAction": "Allow"}
		return nil
	}
	n, ok := v.(map[string]any)
	if !ok {
		return invalidParam("The property 'networkAcls' must be an object.")
	}
	switch n["defaultAction"] {
	case "Allow", "Deny":
	default:
		return invalidParam("The property 'networkAcls.defaultAction' must be Allow or Deny.")
	}
	if _, ok := n["bypass"]; !ok {
		n["bypass"] = "AzureServices"
	}
	for _, k := range []string{"virtualNetworkRules", "ipRules"} {
		if _, ok := n[k]; !ok {
			n[k] = []any{}
		}
	}
	return nil
}

// endpoints are the account's primary endpoints: the Table service where
// Steward serves it, the others in Azure's form (not served by Steward).
func (p *Provider) endpoints(name string) map[string]any {
	return map[string]any{
		"blob":  "https://" + name + ".blob.core.windows.net/",
		"queue": "https://" + name + ".queue.core.windows.net/",
		"table": p.opts.TableEndpoint(name),
		"file":  "https://" + name + ".file.core.windows.net/",
		"dfs":   "https://" + name + ".dfs.core.windows.net/",
		"web":   "https://" + name + ".z13.web.core.windows.net/",
	}
}

// deleteHook drops the data plane's account with its tables.
func (p *Provider) deleteHook(ctx context.Context, id string, doc map[string]any) {
	name, _ := doc["name"].(string)
	if err := p.svc.DeleteAccount(ctx, name); err != nil {
		p.log.Error("deleting a storage account's data failed", "account", name, "err", err)
	}
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
