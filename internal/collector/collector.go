package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/store"
)

// Principal is a credential the collector reads ARM with, and the name its
// token buckets are kept under.
type Principal struct {
	Name       string
	Credential azcore.TokenCredential
}

// Options configure a Collector. Store, Inventory, Principal, ARM and
// Upload are required; the rest have defaults.
type Options struct {
	Store     store.Store
	Inventory Inventory
	// Owner names this replica in the leases (default: a random ID).
	Owner string
	// Principal returns the credential for a deployment's tenant: one
	// certificate credential per tenant, or the same one for all.
	Principal func(tenantID string) (Principal, error)
	// ARM are the SDK options for Resource Manager; the collector adds its
	// throttle and retry policies to a copy.
	ARM azarm.ClientOptions
	// Upload sends one gzip-compressed batch to the Logs Ingestion API.
	Upload func(ctx context.Context, gzipBody []byte) error
	// Verify, when set, counts the rows of a batch already in the table:
	// it is asked before re-sending a batch whose earlier send may have
	// been cut off, so a crash leaves no duplicate.
	Verify func(ctx context.Context, batchID string) (int, error)
	// Concurrency bounds the deployments read at once (default 16).
	Concurrency int
	// LeaseBatch is how many work items one lease takes (default 64).
	LeaseBatch int
	// DeploymentTimeout is one deployment's deadline (default 2 minutes).
	DeploymentTimeout time.Duration
	// Lookback sets $from = $to - Lookback (default 72 hours: one missed
	// daily evaluation cycle does not drop a resource from a run).
	Lookback time.Duration
	// MaxAttempts is how often a failing deployment is retried in one run
	// before it is reported failed (default 3).
	MaxAttempts int
	// Interval is the schedule of Run (default 6 hours, the seed's).
	Interval time.Duration
	// Throttle is the client-side token buckets (default: ARM's figures).
	Throttle *Throttle
	// OutboxLease is how long a replica holds a batch it sends (default 5
	// minutes); a replica that dies holding one delays it that long.
	OutboxLease time.Duration
	Now         func() time.Time
	Log         *slog.Logger
}

// Validate checks the options and fills the defaults.
func (o *Options) Validate() error {
	switch {
	case o.Store == nil:
		return errors.New("collector: Store is required")
	case o.Inventory == nil:
		return errors.New("collector: Inventory is required")
	case o.Principal == nil:
		return errors.New("collector: Principal is required")
	case o.Upload == nil:
		return errors.New("collector: Upload is required")
	}
	if o.Owner == "" {
		o.Owner = "collector-" + uuid.NewString()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.LeaseBatch <= 0 {
		o.LeaseBatch = 64
	}
	if o.DeploymentTimeout <= 0 {
		o.DeploymentTimeout = 2 * time.Minute
	}
	if o.Lookback <= 0 {
		o.Lookback = 72 * time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Interval <= 0 {
		o.Interval = 6 * time.Hour
	}
	if o.Throttle == nil {
		o.Throttle = &Throttle{}
	}
	if o.OutboxLease <= 0 {
		o.OutboxLease = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Collector collects policy states of the registered deployments. Several
// collectors (replicas) sharing a store share the work: items and batches
// are leased.
type Collector struct {
	opts Options

	mu      sync.Mutex
	readers map[string]*statesReader
}

// New returns a Collector.
func New(opts Options) (*Collector, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Collector{opts: opts, readers: map[string]*statesReader{}}, nil
}

// Throttle returns the collector's client-side throttle (its request
// counters).
func (c *Collector) Throttle() *Throttle { return c.opts.Throttle }

func (c *Collector) reader(tenant string) (*statesReader, error) {
	p, err := c.opts.Principal(tenant)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.readers[p.Name]; r != nil {
		return r, nil
	}
	opts := c.opts.ARM
	opts.PerRetryPolicies = append(append([]policy.Policy{}, opts.PerRetryPolicies...), c.opts.Throttle.Policy(p.Name))
	opts.Retry = RetryOptions()
	r, err := newStatesReader(p.Credential, &opts)
	if err != nil {
		return nil, fmt.Errorf("collector: clients for %s: %w", p.Name, err)
	}
	c.readers[p.Name] = r
	return r, nil
}
