package vault

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// TypeVault is the ARM resource type of a key vault.
const TypeVault = "Microsoft.KeyVault/vaults"

// PutVaultHook is the embedded ARM's PUT/PATCH hook for
// Microsoft.KeyVault/vaults: it validates the vault's properties, registers
// the vault with the data plane (name, tenant, ARM ID, soft-delete
// settings), and fills properties.vaultUri ("https://{name}.{dnsSuffix}/"),
// enableRbacAuthorization (Steward vaults use the RBAC model only),
// enableSoftDelete and the retention. defaultTenant is used when the
// document names no tenantId.
func (s *Service) PutVaultHook(dnsSuffix, defaultTenant string) func(ctx context.Context, id string, doc, existing map[string]any) error {
	if dnsSuffix == "" {
		dnsSuffix = DefaultDNSSuffix
	}
	return func(ctx context.Context, id string, doc, existing map[string]any) error {
		name := id[strings.LastIndex(id, "/")+1:]
		if !validVaultName(name) {
			return arm.BadRequest("VaultNameNotValid", "The vault name '%s' is invalid: use 3 to 24 letters, digits and hyphens, starting with a letter, not ending with a hyphen and without consecutive hyphens.", name)
		}
		props, _ := doc["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			doc["properties"] = props
		}
		tenant, _ := props["tenantId"].(string)
		if tenant == "" {
			tenant = defaultTenant
			props["tenantId"] = tenant
		}
		if rbacOn, ok := props["enableRbacAuthorization"].(bool); ok && !rbacOn {
			return arm.BadRequest("BadRequest", "Steward vaults support the Azure RBAC permission model only; set enableRbacAuthorization to true (access policies are not supported).")
		}
		retention := 90
		if r, ok := props["softDeleteRetentionInDays"].(float64); ok {
			retention = int(r)
		}
		purgeProtection, _ := props["enablePurgeProtection"].(bool)
		if old, err := s.GetVault(ctx, name); err == nil && !strings.EqualFold(old.ResourceID, id) {
			return &arm.Error{Status: http.StatusConflict, Code: "VaultAlreadyExists", Message: "The vault name '" + name + "' is already in use."}
		} else if err != nil && !errors.Is(err, ErrVaultNotFound) {
			return err
		}
		if _, err := s.PutVault(ctx, Vault{Name: name, TenantID: tenant, ResourceID: id, RetentionDays: retention, PurgeProtection: purgeProtection}); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return arm.BadRequest("BadRequest", "%s", e.Message)
			}
			return err
		}
		props["vaultUri"] = "https://" + strings.ToLower(name) + "." + dnsSuffix + "/"
		props["enableRbacAuthorization"] = true
		props["enableSoftDelete"] = true
		props["softDeleteRetentionInDays"] = retention
		return nil
	}
}

// DeleteVaultHook removes a deleted vault's data-plane state.
func (s *Service) DeleteVaultHook() func(ctx context.Context, id string, doc map[string]any) {
	return func(ctx context.Context, id string, doc map[string]any) {
		name := id[strings.LastIndex(id, "/")+1:]
		if v, err := s.GetVault(ctx, name); err == nil && strings.EqualFold(v.ResourceID, id) {
			if err := s.DeleteVault(ctx, name); err != nil {
				s.log.Error("vault: delete", "vault", name, "err", err.Error())
			}
		}
	}
}
