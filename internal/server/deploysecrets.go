package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/vault"
)

// deploymentSecrets resolves the Key Vault references of deployment
// parameter files from Steward's vault, under Azure's two conditions: the
// vault has enabledForTemplateDeployment, and the deploying principal may
// perform Microsoft.KeyVault/vaults/deploy/action on it.
func deploymentSecrets(c *cloud.Cloud, svc *vault.Service) cloud.SecretResolver {
	return func(ctx context.Context, vaultID, name, version string) (string, error) {
		p, _ := identity.PrincipalFrom(ctx)
		if !c.Allowed(ctx, p, rbac.Request{Action: "Microsoft.KeyVault/vaults/deploy/action", Scope: vaultID}) {
			return "", fmt.Errorf("the client '%s' does not have permission 'Microsoft.KeyVault/vaults/deploy/action' on the key vault '%s'", p.ObjectID, vaultID)
		}
		res, err := c.Get(ctx, vaultID)
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("the key vault '%s' was not found", vaultID)
		}
		if err != nil {
			return "", err
		}
		props, _ := res.Doc["properties"].(map[string]any)
		if enabled, _ := props["enabledForTemplateDeployment"].(bool); !enabled {
			return "", fmt.Errorf("the key vault '%s' is not enabled for template deployment (properties.enabledForTemplateDeployment)", vaultID)
		}
		v, err := svc.GetVault(ctx, vaultID[strings.LastIndexByte(vaultID, '/')+1:])
		if err != nil {
			return "", fmt.Errorf("the key vault '%s' has no data plane", vaultID)
		}
		b, err := svc.GetSecret(ctx, v, name, version)
		if err != nil {
			return "", fmt.Errorf("the secret '%s' of key vault '%s' could not be read", name, vaultID)
		}
		return b.Value, nil
	}
}
