package insights

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

// Options configures an Engine. Only the Cloud is required.
type Options struct {
	// Aliases resolve the aliases policy rules name (nil: the documented
	// default rule, Namespace/type/a.b is properties.a.b).
	Aliases *policy.AliasTable
	// Assignments, when set, supplies the compiled assignments and the
	// exemptions in effect (the policy provider's, so that compliance and
	// enforcement see the same policies); otherwise the Engine compiles the
	// stored documents itself, resolving definitions through Definitions.
	Assignments func(ctx context.Context) ([]*policy.Assigned, []*policy.Exemption, error)
	// Definitions find definitions and sets that are not stored in the
	// Cloud (built-ins served by the policy provider); nil finds none.
	Definitions policy.Resolvers
	// Clock is the time source (default: the Cloud's clock).
	Clock func() time.Time
	// NewID returns operation IDs (default uuid.NewString).
	NewID func() string
	// Logger receives diagnostics (default: discarded).
	Logger *slog.Logger
	// Workers is how many goroutines evaluate a scan (default GOMAXPROCS).
	Workers int
	// Owner names this replica in scan leases (default a new GUID).
	Owner string
	// LeaseTTL is how long a scan job is leased before another replica may
	// take it over (default 2 minutes); the holder renews it while it runs.
	LeaseTTL time.Duration
	// Poll is how often the worker looks for jobs other replicas queued
	// (default 5 seconds); jobs queued here wake it at once.
	Poll time.Duration
	// RetryAfter is the Retry-After, in seconds, of triggerEvaluation
	// answers (default DefaultRetryAfter).
	RetryAfter int
	// Cycle, when positive, queues a full scan of every subscription this
	// often: Azure's standard evaluation cycle is once every 24 hours.
	Cycle time.Duration
}

// Engine keeps policy states current and serves the policy states API.
// It is safe for concurrent use.
type Engine struct {
	cloud *cloud.Cloud
	opts  Options
	log   *slog.Logger
	now   func() time.Time

	mu       sync.RWMutex
	policies *policies
	// hookEnv caches, for the write hook, the resource group and
	// subscription documents and management groups evaluations read; it is
	// dropped when one of those changes here and renewed every
	// hookEnvTTL (for changes other replicas make).
	hookEnv   *scanEnv
	hookEnvAt time.Time

	// cache keeps decoded states for queries (statecache.go).
	cache stateCache

	// salt is what digests hold of the build and the alias table
	// (buildSalt), made once.
	saltOnce sync.Once
	salt     []byte

	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}
	// remWake wakes the remediation runner; remDone is closed when it
	// ends.
	remWake chan struct{}
	remDone chan struct{}
}

// New returns an Engine over c. Mount it to serve the API and follow
// writes; Start runs its background worker.
func New(c *cloud.Cloud, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = c.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Owner == "" {
		opts.Owner = uuid.NewString()
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	return &Engine{cloud: c, opts: opts, log: opts.Logger, now: func() time.Time { return opts.Clock().UTC() },
		wake: make(chan struct{}, 1), remWake: make(chan struct{}, 1)}
}

// Mount registers the Microsoft.PolicyInsights routes on the Cloud and
// installs the Engine as its compliance hook.
func (e *Engine) Mount() error {
	if err := e.cloud.Register(e.routes()); err != nil {
		return err
	}
	e.cloud.SetComplianceHook(e)
	e.watchStates()
	return nil
}

// current returns the compiled policies. With Options.Assignments they are
// asked for each time (the provider caches them and knows when they
// change); otherwise they are compiled on first use and after each policy
// write.
func (e *Engine) current(ctx context.Context) (*policies, error) {
	e.mu.RLock()
	ps := e.policies
	e.mu.RUnlock()
	if ps != nil && e.opts.Assignments == nil {
		return ps, nil
	}
	return e.reload(ctx)
}

// snapshot is the last loaded policies (nil before the first load).
func (e *Engine) snapshot() *policies {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.policies
}

// reload recompiles the policies from the store.
func (e *Engine) reload(ctx context.Context) (*policies, error) {
	ps, err := e.loadPolicies(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.policies = ps
	e.mu.Unlock()
	return ps, nil
}

// AfterCommit implements cloud.ComplianceHook: a written resource is
// evaluated at once, a deleted one loses its states, and a changed policy
// object queues a scan of the scopes it affects.
func (e *Engine) AfterCommit(ctx context.Context, ch cloud.Change) {
	if isPolicyType(ch.Type) {
		e.policyChanged(ctx, ch)
		return
	}
	if t := strings.ToLower(ch.Type); t == strings.ToLower(cloud.TypeResourceGroup) ||
		t == strings.ToLower(cloud.TypeSubscription) || strings.HasPrefix(t, "microsoft.management/") {
		e.mu.Lock()
		e.hookEnv = nil // it caches these documents and the hierarchy
		e.mu.Unlock()
	}
	if !evaluated(ch.Type) {
		return
	}
	if ch.Operation == cloud.OpDelete {
		if err := e.deleteStates(ctx, ch.ID); err != nil {
			e.log.Error("deleting policy states failed", "id", ch.ID, "err", err)
		}
		return
	}
	ps, err := e.current(ctx)
	if err != nil {
		e.log.Error("loading policies failed", "err", err)
		return
	}
	env := e.writeEnv()
	r := cloud.Resource{ID: ch.ID, Type: ch.Type, Doc: ch.Document}
	states := e.evaluate(ctx, ps, env, r, "")
	if err := e.writeStates(ctx, []batchItem{{id: ch.ID, at: e.now(), states: states}}); err != nil {
		e.log.Error("writing policy states failed", "id", ch.ID, "err", err)
	}
}

// definitionScans is how many assignments of a changed definition are
// scanned one by one; a definition that more use queues a full scan of
// their scopes, which costs about as much as a few assignments' scans.
const definitionScans = 3

// assignmentUse is an assignment (its ID and scope) that uses a definition.
type assignmentUse struct{ scope, id string }

// definitionUsers returns the assignments of either snapshot that use the
// definition or set definition id, each once; false when more than
// definitionScans do, or a snapshot is missing.
func definitionUsers(id string, snapshots ...*policies) ([]assignmentUse, bool) {
	id = strings.ToLower(id)
	var out []assignmentUse
	seen := map[string]bool{}
	for _, ps := range snapshots {
		if ps == nil {
			return nil, false
		}
		for _, c := range ps.assigned {
			k := assignmentKey(c.a.ID)
			if !c.members[id] || seen[k] {
				continue
			}
			seen[k] = true
			if len(out) == definitionScans {
				return nil, false
			}
			out = append(out, assignmentUse{scope: c.a.Scope, id: c.a.ID})
		}
	}
	return out, true
}

// hookEnvTTL bounds how long the write hook trusts its cached documents.
const hookEnvTTL = 30 * time.Second

// writeEnv returns the write hook's evaluation cache, renewed when it is
// old (AfterCommit drops it when a resource group, a subscription or the
// management-group hierarchy changes).
func (e *Engine) writeEnv() *scanEnv {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hookEnv == nil || now.Sub(e.hookEnvAt) > hookEnvTTL || now.Before(e.hookEnvAt) {
		e.hookEnv, e.hookEnvAt = newScanEnv(e), now
	}
	return e.hookEnv
}

func (e *Engine) policyChanged(ctx context.Context, ch cloud.Change) {
	old, _ := e.current(ctx)
	ps, err := e.reload(ctx)
	if err != nil {
		e.log.Error("reloading policies failed", "err", err)
	}
	doc := ch.Document
	if doc == nil {
		doc = ch.Previous
	}
	// An assignment or exemption change concerns one assignment: only its
	// states are re-evaluated. A definition change concerns the
	// assignments that use it: a few are scanned one by one, as if each
	// had changed; more, the scopes they are assigned at.
	only := ""
	switch {
	case strings.EqualFold(ch.Type, TypeAssignment):
		only = ch.ID
	case strings.EqualFold(ch.Type, TypeExemption):
		only, _ = propString(doc, "policyAssignmentId")
	default:
		if users, ok := definitionUsers(ch.ID, old, ps); ok {
			for _, u := range users {
				if err := e.EnqueueAssignment(ctx, u.scope, u.id); err != nil {
					e.log.Error("queueing a compliance scan failed", "scope", u.scope, "err", err)
				}
			}
			return
		}
	}
	var scopes []string
	if old != nil {
		scopes = affectedScopes(old, ch, doc)
	}
	if ch.Previous != nil && strings.EqualFold(ch.Type, TypeAssignment) {
		if s, ok := propString(ch.Previous, "scope"); ok && s != "" {
			scopes = append(scopes, s)
		}
	}
	seen := map[string]bool{}
	for _, s := range scopes {
		if s == "" || seen[strings.ToLower(s)] {
			continue
		}
		seen[strings.ToLower(s)] = true
		var err error
		if only != "" {
			err = e.EnqueueAssignment(ctx, s, only)
		} else {
			err = e.Enqueue(ctx, s, "")
		}
		if err != nil {
			e.log.Error("queueing a compliance scan failed", "scope", s, "err", err)
		}
	}
}
