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
// subscription and principal (ARM's "per subscription, per service
// principal" reads limit: 250 tokens, 25 per second), taken before every
// attempt, retries included. It also counts the requests sent.
type Throttle struct {
	// Size and Refill size every bucket (defaults 250 and 25/s).
	Size   int
	Refill float64

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	requests atomic.Int64
	throttle atomic.Int64
}

func (t *Throttle) bucket(key string) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.buckets == nil {
		t.buckets = map[string]*rate.Limiter{}
	}
	b := t.buckets[key]
	if b == nil {
		size, refill := t.Size, t.Refill
		if size <= 0 {
			size = 250
		}
		if refill <= 0 {
			refill = 25
		}
		b = rate.NewLimiter(rate.Limit(refill), size)
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
	key := p.principal + "|" + subscriptionOf(req.Raw().URL.Path)
	if err := p.t.bucket(key).Wait(req.Raw().Context()); err != nil {
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
