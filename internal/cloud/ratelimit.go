package cloud

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// Bucket is one token bucket: Size tokens, refilled at Refill tokens per
// second; every request takes one.
type Bucket struct {
	Size   int     `yaml:"size"`
	Refill float64 `yaml:"refillPerSecond"`
}

// RateLimits are the token buckets ARM throttles with, per subscription (or
// per tenant for tenant-level requests), per principal and per kind of
// operation.
type RateLimits struct {
	// Disabled turns throttling off (the headers are still sent).
	Disabled bool   `yaml:"disabled"`
	Reads    Bucket `yaml:"reads"`
	Writes   Bucket `yaml:"writes"`
	Deletes  Bucket `yaml:"deletes"`
	// GlobalFactor sizes the bucket that all principals of a subscription
	// share: GlobalFactor times the per-principal bucket (0 turns it off).
	GlobalFactor float64 `yaml:"globalFactor"`
}

// DefaultRateLimits are ARM's published per-principal figures for the
// public cloud (request-limits-and-throttling.md, "Subscription and tenant
// limits"): reads 250 with 25/s refill, writes and deletes 200 with 10/s,
// and a subscription-wide limit 15 times those across all principals.
func DefaultRateLimits() RateLimits {
	return RateLimits{Reads: Bucket{250, 25}, Writes: Bucket{200, 10}, Deletes: Bucket{200, 10}, GlobalFactor: 15}
}

// Validate checks that every bucket can ever grant a request.
func (l RateLimits) Validate() error {
	var errs []error
	for _, b := range []struct {
		name string
		b    Bucket
	}{{"reads", l.Reads}, {"writes", l.Writes}, {"deletes", l.Deletes}} {
		if b.b.Size < 1 || b.b.Refill <= 0 || math.IsInf(b.b.Refill, 0) || math.IsNaN(b.b.Refill) {
			errs = append(errs, fmt.Errorf("cloud: rate limit %s needs size >= 1 and a positive refill rate", b.name))
		}
	}
	if l.GlobalFactor < 0 || math.IsInf(l.GlobalFactor, 0) || math.IsNaN(l.GlobalFactor) || (l.GlobalFactor > 0 && l.GlobalFactor < 1) {
		errs = append(errs, fmt.Errorf("cloud: rate limit globalFactor must be 0 (off) or at least 1"))
	}
	return errors.Join(errs...)
}

type opKind int

const (
	opRead opKind = iota
	opWrite
	opDelete
)

// String names the kind as the rate-limit headers do.
func (k opKind) String() string { return [...]string{"reads", "writes", "deletes"}[k] }

func kindOf(method string) opKind {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return opRead
	case http.MethodDelete:
		return opDelete
	}
	return opWrite
}

type bucketState struct {
	tokens float64
	last   time.Time
}

// limiter holds the buckets in memory; each replica throttles on its own,
// as ARM's regional instances do.
type limiter struct {
	mu      sync.Mutex
	cfg     RateLimits
	now     func() time.Time
	buckets map[string]*bucketState
}

// maxBuckets bounds the map; idle full buckets are dropped beyond it.
const maxBuckets = 100_000

func newLimiter(cfg RateLimits, now func() time.Time) *limiter {
	return &limiter{cfg: cfg, now: now, buckets: map[string]*bucketState{}}
}

func (l *limiter) spec(k opKind) Bucket {
	switch k {
	case opWrite:
		return l.cfg.Writes
	case opDelete:
		return l.cfg.Deletes
	}
	return l.cfg.Reads
}

// globalPrincipal keys the bucket all principals of a subscription share.
const globalPrincipal = "*"

// specFor is the bucket of a key: the kind's, scaled by GlobalFactor for
// a subscription's shared bucket.
func (l *limiter) specFor(k opKind, global bool) Bucket {
	s := l.spec(k)
	if global {
		s.Size = int(float64(s.Size) * l.cfg.GlobalFactor)
		s.Refill *= l.cfg.GlobalFactor
	}
	return s
}

// bucket returns the refilled bucket at key.
func (l *limiter) bucket(key string, spec Bucket, now time.Time) *bucketState {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucketState{tokens: float64(spec.Size), last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(spec.Size), b.tokens+el*spec.Refill)
		b.last = now
	}
	return b
}

// take takes a token for principal's kind of request in scope (a
// subscription ID, or "" for the tenant), and one from the subscription's
// bucket shared by all principals. It returns the principal's tokens left
// and, when refused, how long until a token is available.
func (l *limiter) take(scope, principal string, k opKind) (remaining int, retry time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	spec := l.specFor(k, false)
	b := l.bucket(strings.ToLower(scope)+"|"+strings.ToLower(principal)+"|"+k.String(), spec, now)
	var g *bucketState
	gspec := l.specFor(k, true)
	if scope != "" && l.cfg.GlobalFactor > 0 {
		g = l.bucket(strings.ToLower(scope)+"|"+globalPrincipal+"|"+k.String(), gspec, now)
	}
	if l.cfg.Disabled {
		return int(b.tokens), 0, true
	}
	var wait time.Duration
	if b.tokens < 1 {
		wait = time.Duration((1 - b.tokens) / spec.Refill * float64(time.Second))
	}
	if g != nil && g.tokens < 1 {
		wait = max(wait, time.Duration((1-g.tokens)/gspec.Refill*float64(time.Second)))
	}
	if wait > 0 {
		return int(b.tokens), wait, false
	}
	b.tokens--
	if g != nil {
		g.tokens--
	}
	return int(b.tokens), 0, true
}

// sweep drops the buckets that have refilled completely.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		kind := opRead
		switch {
		case strings.HasSuffix(k, "|writes"):
			kind = opWrite
		case strings.HasSuffix(k, "|deletes"):
			kind = opDelete
		}
		s := l.specFor(kind, strings.Contains(k, "|"+globalPrincipal+"|"))
		if b.tokens+now.Sub(b.last).Seconds()*s.Refill >= float64(s.Size) {
			delete(l.buckets, k)
		}
	}
}

// throttle applies the limit to a call and sets the remaining-count header;
// it returns ARM's 429 when the bucket is empty.
func (c *Cloud) throttle(w http.ResponseWriter, method, subscription, principal string) error {
	k := kindOf(method)
	level := "subscription"
	if subscription == "" {
		level = "tenant"
	}
	remaining, retry, ok := c.limiter.take(subscription, principal, k)
	w.Header().Set("x-ms-ratelimit-remaining-"+level+"-"+k.String(), strconv.Itoa(remaining))
	if ok {
		return nil
	}
	secs := int(math.Ceil(retry.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if subscription == "" {
		return arm.Errorf(http.StatusTooManyRequests, "TenantRequestsThrottled",
			"Number of '%s' requests for tenant actor '%s' exceeded. Please try again after '%d' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
			strings.TrimSuffix(k.String(), "s"), principal, secs)
	}
	return arm.Errorf(http.StatusTooManyRequests, "SubscriptionRequestsThrottled",
		"Number of '%s' requests for subscription '%s' actor '%s' exceeded. Please try again after '%d' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
		strings.TrimSuffix(k.String(), "s"), subscription, principal, secs)
}

// SetRateLimits replaces the throttling configuration; buckets restart
// full.
func (c *Cloud) SetRateLimits(l RateLimits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	c.limiter.mu.Lock()
	defer c.limiter.mu.Unlock()
	c.limiter.cfg = l
	c.limiter.buckets = map[string]*bucketState{}
	return nil
}
