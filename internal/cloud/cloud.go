package cloud

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// Options configures a Cloud. Store and Authenticate are required; the
// rest have defaults.
type Options struct {
	// Store holds every resource document and the activity log.
	Store store.Store
	// Authenticate wraps the API handler with bearer-token authentication
	// that puts an identity.Principal in the request context and answers
	// 401 ARM envelopes itself (identity.Validator.Middleware).
	Authenticate func(http.Handler) http.Handler
	// TenantID is the home tenant: subscriptions and management groups
	// belong to it.
	TenantID string
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// NewID returns a fresh GUID for correlation and operation IDs
	// (default uuid.NewString).
	NewID func() string
	// Logger receives the pipeline's diagnostics (default: discarded).
	Logger *slog.Logger
	// RateLimits are the token buckets (default DefaultRateLimits).
	RateLimits *RateLimits
	// MaxBodyBytes caps request bodies (default 4 MiB, ARM's limit).
	MaxBodyBytes int64
	// PublicURL is the base URL clients use ("https://localhost:8443/"),
	// for the URLs Steward builds when a request's Host header is not a
	// valid host.
	PublicURL string
	// Catalog holds the built-in role definitions (default
	// rbac.BuiltInCatalog()); custom roles in the store are added to it.
	Catalog *rbac.Catalog
}

// DefaultMaxBodyBytes is ARM's request size limit.
const DefaultMaxBodyBytes = 4 << 20

// Cloud is the embedded ARM. It is safe for concurrent use once Start has
// returned. Register, SetPolicyHook, SetComplianceHook, OnPut and OnDelete
// may be called at any time (typically by services mounted after the
// Cloud, before Steward serves).
type Cloud struct {
	opts    Options
	store   store.Store
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	limiter *limiter

	routes *registry

	hooksMu    sync.RWMutex // guards the hooks below
	putHooks   map[string][]PutHook
	delHooks   map[string][]DeleteHook
	policy     PolicyHook
	compliance ComplianceHook
	secrets    SecretResolver
	// watched maps a type key to the generations that count its writes.
	watched map[string][]*Generation

	mu        sync.RWMutex // guards engine and hierarchy swaps
	engine    *rbac.Engine
	hierarchy *hierarchy

	sync    rbacSync
	deploys deploymentJobs // deployments running in the background
	// activityExport is set when a forwarder exports the activity log, so
	// that subscription diagnostic settings are accepted.
	activityExport atomic.Bool
	generic        *Route
	handler        http.Handler
}

// New returns a Cloud over opts. Call Start before serving.
func New(opts Options) (*Cloud, error) {
	if opts.Store == nil {
		return nil, errors.New("cloud: Options.Store is required")
	}
	if opts.Authenticate == nil {
		return nil, errors.New("cloud: Options.Authenticate is required")
	}
	c := &Cloud{opts: opts, store: opts.Store, log: opts.Logger, now: opts.Clock, newID: opts.NewID,
		routes: newRegistry(), putHooks: map[string][]PutHook{}, delHooks: map[string][]DeleteHook{}, watched: map[string][]*Generation{},
		hierarchy: newHierarchy(opts.TenantID)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.newID == nil {
		c.newID = uuid.NewString
	}
	if c.opts.MaxBodyBytes <= 0 {
		c.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	rl := DefaultRateLimits()
	if opts.RateLimits != nil {
		rl = *opts.RateLimits
	}
	if err := rl.Validate(); err != nil {
		return nil, err
	}
	c.limiter = newLimiter(rl, c.now)
	if c.opts.Catalog == nil {
		cat, err := rbac.BuiltInCatalog()
		if err != nil {
			return nil, err
		}
		c.opts.Catalog = cat
	}
	c.engine = rbac.NewEngine(c.opts.Catalog, rbac.WithHierarchy(c.hierarchy), rbac.WithClock(c.now))
	c.registerBuiltins()
	c.handler = opts.Authenticate(http.HandlerFunc(c.serve))
	return c, nil
}

// Start loads the state the Cloud keeps in memory from the store: the
// management-group hierarchy and rbac's role definitions and assignments.
func (c *Cloud) Start(ctx context.Context) error {
	if err := c.ensureRootGroup(ctx); err != nil {
		return err
	}
	n, err := c.readRBACGeneration(ctx)
	if err != nil {
		return err
	}
	if err := c.reloadRBAC(ctx); err != nil {
		return err
	}
	c.sync.mu.Lock()
	c.sync.applied, c.sync.checked = n, c.now()
	c.sync.mu.Unlock()
	c.subscribe(rbacChannel, &c.sync.notified)
	return nil
}

// Handler is the management API: mount it at the root of the ARM endpoint.
func (c *Cloud) Handler() http.Handler { return c.handler }

// Engine returns rbac's engine as the Cloud keeps it: the role definitions
// and assignments in the store. Callers must not add to it directly; write
// the documents through the pipeline instead.
func (c *Cloud) Engine() *rbac.Engine {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.engine
}

// Store returns the store the Cloud persists to.
func (c *Cloud) Store() store.Store { return c.store }

// TenantID returns the home tenant.
func (c *Cloud) TenantID() string { return c.opts.TenantID }

// Now returns the Cloud's clock reading.
func (c *Cloud) Now() time.Time { return c.now().UTC() }

// SetPolicyHook installs the hook every write passes before it is
// persisted (nil removes it).
func (c *Cloud) SetPolicyHook(h PolicyHook) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	c.policy = h
}

// SetComplianceHook installs the hook called after every committed write
// (nil removes it).
func (c *Cloud) SetComplianceHook(h ComplianceHook) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	c.compliance = h
}

// OnPut adds a hook run on every PUT and PATCH of resourceType (such as
// "Microsoft.KeyVault/vaults"), before the policy hook. AnyType ("*")
// runs the hook for every type, after the type's own hooks.
func (c *Cloud) OnPut(resourceType string, h PutHook) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	k := typeKey(resourceType)
	c.putHooks[k] = append(c.putHooks[k], h)
}

// OnDelete adds a hook run after a resource of resourceType (or, with
// AnyType, of any type) is deleted.
func (c *Cloud) OnDelete(resourceType string, h DeleteHook) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	k := typeKey(resourceType)
	c.delHooks[k] = append(c.delHooks[k], h)
}

// hooks returns the hooks in force for a resource type.
func (c *Cloud) hooks(resourceType string) (put []PutHook, del []DeleteHook, pol PolicyHook, comp ComplianceHook) {
	c.hooksMu.RLock()
	defer c.hooksMu.RUnlock()
	k := typeKey(resourceType)
	put, del = c.putHooks[k], c.delHooks[k]
	if all := typeKey(AnyType); k != all {
		put = append(put[:len(put):len(put)], c.putHooks[all]...)
		del = append(del[:len(del):len(del)], c.delHooks[all]...)
	}
	return put, del, c.policy, c.compliance
}

// AnyType registers a hook with OnPut or OnDelete for every resource type.
const AnyType = "*"

// principalFrom returns the authenticated caller of ctx.
func principalFrom(ctx context.Context) identity.Principal {
	p, _ := identity.PrincipalFrom(ctx)
	return p
}
