package identity

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ManagedIdentityToken issues an access token for resource to the managed
// identity whose service principal has clientID in tenantID, as Azure's
// managed identity endpoints (IMDS, App Service) do: without a client
// credential, since the caller proved it runs as the identity to the
// endpoint. resource is a resource identifier or a scope ending in
// "/.default". authority is the token service the token names as issuer.
// It also returns the token's expiry.
func (s *Service) ManagedIdentityToken(ctx context.Context, tenantID, clientID, resource, authority string) (string, time.Time, error) {
	if strings.HasSuffix(resource, "/.default") {
		var err error
		if resource, err = parseScope(resource); err != nil {
			return "", time.Time{}, err
		}
	}
	if resource == "" {
		return "", time.Time{}, errMissingParam("resource")
	}
	sp, err := s.dir.ServicePrincipal(ctx, tenantID, clientID)
	if errors.Is(err, ErrNotFound) {
		return "", time.Time{}, errAppNotFound(clientID, tenantID)
	} else if err != nil {
		return "", time.Time{}, err
	}
	if !sp.AccountEnabled {
		return "", time.Time{}, errClientDisabled(clientID)
	}
	if ok, err := s.knownResource(ctx, tenantID, resource); err != nil {
		return "", time.Time{}, err
	} else if !ok {
		return "", time.Time{}, errResourceNotFound(resource, tenantID)
	}
	return s.issue(ctx, tenantID, sp, resource, "2", s.opts.Now(), authority)
}
