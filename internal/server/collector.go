package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/collector"
)

// CollectorPrefix is where the managed application notification endpoint
// is served: a definition's notificationEndpoints uri is
// {base}/collector, to which Azure appends /resource.
const CollectorPrefix = "/collector/"

// CollectorPlane is the mounted collector endpoint. Its notification
// handler is set once the collector is configured (SetNotifications);
// before that the endpoint answers 503, which Azure retries.
type CollectorPlane struct {
	mu sync.RWMutex
	n  *collector.Notifications
	// api serves CollectorPrefix+"api/", when set; lazy prepares the
	// notification handler on first use, when set.
	api  http.Handler
	lazy func(context.Context) error
}

// SetNotifications installs the notification handler.
func (p *CollectorPlane) SetNotifications(n *collector.Notifications) {
	p.mu.Lock()
	p.n = n
	p.mu.Unlock()
}

// ServeHTTP serves {prefix}resource. The endpoint authenticates requests
// by their sig query parameter, as Azure's notifications carry no token.
func (p *CollectorPlane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.api != nil && strings.HasPrefix(r.URL.Path, CollectorPrefix+"api/") {
		p.api.ServeHTTP(w, r)
		return
	}
	if r.URL.Path != CollectorPrefix+"resource" {
		arm.WriteError(w, arm.NotFound("NotFound", "No collector endpoint at '%s'.", r.URL.Path))
		return
	}
	p.mu.RLock()
	n := p.n
	p.mu.RUnlock()
	if n == nil && p.lazy != nil {
		if err := p.lazy(r.Context()); err == nil {
			p.mu.RLock()
			n = p.n
			p.mu.RUnlock()
		}
	}
	if n == nil {
		arm.WriteError(w, arm.Errorf(http.StatusServiceUnavailable, "CollectorNotConfigured", "The collector is not configured yet; retry later."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	n.ServeHTTP(w, r)
}

// CollectorService mounts the notification endpoint at CollectorPrefix.
// ready receives the plane.
func CollectorService(ready ...func(*CollectorPlane)) Service {
	return func(ctx context.Context, s *Steward) error {
		if s.Cloud == nil {
			return errors.New("collector: mount CloudService before CollectorService")
		}
		p := &CollectorPlane{}
		s.Server.Router.HandlePrefix("collector", CollectorPrefix, p)
		for _, f := range ready {
			f(p)
		}
		return nil
	}
}
