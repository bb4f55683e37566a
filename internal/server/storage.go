package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/cloud/storageaccounts"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/storage"
)

// StorageAudience is the token audience of the storage data planes.
const StorageAudience = "https://storage.azure.com"

// tableHostSuffix is the Table service's Azure host suffix, for requests
// the forward proxy routes by host ({account}.table.core.windows.net).
const tableHostSuffix = ".table.core.windows.net"

// StoragePlane is the mounted storage service: the Table service and its
// handler.
type StoragePlane struct {
	Service *storage.Service
	Handler *storage.Handler
}

// StorageService is the Service that mounts storage accounts: the
// Microsoft.Storage resource provider on the embedded ARM (mount
// CloudService first) and the Table service at {base}/tables/{account}/,
// and for hosts {account}.table.core.windows.net. Account keys are sealed
// with Steward's sealer (its key ring under the root key). ready, when
// given, receives the plane.
func StorageService(ready ...func(*StoragePlane)) Service {
	return func(ctx context.Context, s *Steward) error {
		p, err := s.mountStorage(ctx)
		if err != nil {
			return err
		}
		for _, f := range ready {
			f(p)
		}
		return nil
	}
}

func (s *Steward) mountStorage(ctx context.Context) (*StoragePlane, error) {
	c := s.Cloud
	if c == nil {
		return nil, errors.New("storage: mount CloudService before StorageService")
	}
	log := s.log.With("component", "storage")
	svc, err := storage.New(ctx, s.Store, s.Sealer, storage.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(s.BaseURL, "/")
	if _, err := storageaccounts.Register(c, svc, storageaccounts.Options{Logger: log,
		TableEndpoint: func(a string) string { return base + storage.PathPrefix + a + "/" }}); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	usage := s.usageRecorder()
	h := svc.Handler(storage.HandlerOptions{
		Validator: s.Validator(StorageAudience, StorageAudience+"/"),
		Authorize: func(ctx context.Context, p identity.Principal, action string, data bool, scope string) bool {
			ok := c.Allowed(ctx, p, rbac.Request{Action: action, DataAction: data, Scope: scope})
			if ok && data {
				usage.Note(p.ObjectID, scope, action)
			}
			return ok
		},
		ResolveHost: func(host string) (string, bool) {
			a, ok := strings.CutSuffix(host, tableHostSuffix)
			return a, ok && storage.ValidAccountName(a)
		},
		AuthorityURL: base + "/" + s.Bootstrap.TenantID + "/oauth2/authorize",
		Logger:       log,
	})
	s.Server.Router.Handle(Route{Name: "storage-table", Match: h.Matches, Handler: h})
	// {account}.table.core.windows.net through the proxy.
	s.Server.Router.Host("*" + tableHostSuffix).Handle(Route{Name: "storage-table", Match: h.Matches, Handler: h})
	return &StoragePlane{Service: svc, Handler: h}, nil
}
