package collector

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"golang.org/x/time/rate"
)

// Throttle is the client side of ARM's token buckets: one bucket per
// principal, subscription and kind of operation (ARM's limits apply "per
// subscription, per service principal, and per operation type": reads 250
// tokens refilled 25/s; writes, which include POST actions such as
// policyStates/queryResults, 200 refilled 10/s; deletes the same), taken
// before every attempt, retries included. It also counts the requests
// sent.
type Throttle struct {
	// Reads and Writes size the buckets (defaults: ARM's public-cloud
	// figures). Deletes use Writes.
	Reads, Writes Bucket

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	requests atomic.Int64
	throttle atomic.Int64
}

// Bucket is one token bucket: Size tokens refilled at Refill per second.
type Bucket struct {
	Size   int
	Refill float64
}

func (t *Throttle) bucket(key string, write bool) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.buckets == nil {
		t.buckets = map[string]*rate.Limiter{}
	}
	b := t.buckets[key]
	if b == nil {
		spec, def := t.Reads, Bucket{Size: 250, Refill: 25}
		if write {
			spec, def = t.Writes, Bucket{Size: 200, Refill: 10}
		}
		if spec.Size <= 0 || spec.Refill <= 0 {
			spec = def
		}
		b = rate.NewLimiter(rate.Limit(spec.Refill), spec.Size)
		t.buckets[key] = b
	}
	return b
}

// Requests is how many requests went through the throttle's policies.
func (t *Throttle) Requests() int64 { return t.requests.Load() }

// Throttled is how many of them ARM answered 429.
func (t *Throttle) Throttled() int64 { return t.throttle.Load() }

// Policy is the per-attempt pipeline policy of one principal.
func (t *Throttle) Policy(principal string) policy.Policy {
	return throttlePolicy{t: t, principal: principal}
}

type throttlePolicy struct {
	t         *Throttle
	principal string
}

// subscriptionOf returns the subscription segment of an ARM URL path, or
// "" for tenant-level requests (which have a bucket of their own).
func subscriptionOf(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if strings.EqualFold(segs[i], "subscriptions") {
			return strings.ToLower(segs[i+1])
		}
	}
	return ""
}

// Do implements policy.Policy.
func (p throttlePolicy) Do(req *policy.Request) (*http.Response, error) {
	write := req.Raw().Method != http.MethodGet && req.Raw().Method != http.MethodHead
	key := p.principal + "|" + subscriptionOf(req.Raw().URL.Path) + "|" + map[bool]string{false: "r", true: "w"}[write]
	if err := p.t.bucket(key, write).Wait(req.Raw().Context()); err != nil {
		return nil, err
	}
	p.t.requests.Add(1)
	resp, err := req.Next()
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		p.t.throttle.Add(1)
	}
	return resp, err
}

// RetryOptions are the collector's retries for ARM and ingestion: the
// statuses azcore retries (408, 429, 500, 502, 503, 504), Retry-After
// honoured when present, else exponential backoff from RetryDelay with
// azcore's jitter.
func RetryOptions() policy.RetryOptions {
	return policy.RetryOptions{MaxRetries: 6, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 30 * time.Second}
}
