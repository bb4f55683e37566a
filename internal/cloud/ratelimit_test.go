package cloud

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestThrottleRefillsAndAnswers429(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c := &Cloud{limiter: newLimiter(RateLimits{Reads: Bucket{3, 1}, Writes: Bucket{2, 0.5}, Deletes: Bucket{1, 1}}, clock)}
	take := func(method, sub, who string) (int, string, string) {
		w := httptest.NewRecorder()
		err := c.throttle(w, method, sub, who)
		code := ""
		if err != nil {
			code = err.Error()
		}
		return len(code), w.Header().Get("Retry-After"), w.Header().Get("x-ms-ratelimit-remaining-subscription-writes")
	}
	for i := 0; i < 2; i++ {
		if n, _, _ := take("PUT", "s", "p"); n != 0 {
			t.Fatalf("write %d throttled", i)
		}
	}
	if n, retry, rem := take("PUT", "s", "p"); n == 0 || retry != "2" || rem != "0" {
		t.Fatalf("third write: throttled=%v Retry-After=%q remaining=%q", n != 0, retry, rem)
	}
	if n, _, _ := take("PUT", "s", "other"); n != 0 {
		t.Error("another principal shares the bucket")
	}
	if n, _, _ := take("PUT", "s2", "p"); n != 0 {
		t.Error("another subscription shares the bucket")
	}
	if n, _, _ := take("GET", "s", "p"); n != 0 {
		t.Error("reads share the writes bucket")
	}
	now = now.Add(2 * time.Second)
	if n, _, _ := take("PUT", "s", "p"); n != 0 {
		t.Error("bucket did not refill")
	}
	w := httptest.NewRecorder()
	_ = c.throttle(w, "GET", "", "p")
	if w.Header().Get("x-ms-ratelimit-remaining-tenant-reads") != "2" {
		t.Errorf("tenant header: %v", w.Header())
	}
}

func TestSubscriptionBucketIsSharedByAllPrincipals(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Cloud{limiter: newLimiter(RateLimits{Reads: Bucket{2, 1}, Writes: Bucket{2, 1}, Deletes: Bucket{2, 1}, GlobalFactor: 2},
		func() time.Time { return now })}
	refused := 0
	for i := range 6 {
		if err := c.throttle(httptest.NewRecorder(), "PUT", "s", fmt.Sprint("p", i)); err != nil {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d of 6 writes by 6 principals refused, want 2 (shared bucket of 4)", refused)
	}
	if err := c.throttle(httptest.NewRecorder(), "PUT", "", "p9"); err != nil {
		t.Error("tenant-level requests use the shared subscription bucket")
	}
}

func TestRateLimitsValidate(t *testing.T) {
	if err := DefaultRateLimits().Validate(); err != nil {
		t.Error(err)
	}
	bad := DefaultRateLimits()
	bad.Writes.Refill = 0
	if bad.Validate() == nil {
		t.Error("a bucket that never refills passed")
	}
	bad = DefaultRateLimits()
	bad.GlobalFactor = 0.5
	if bad.Validate() == nil {
		t.Error("a shared bucket smaller than a principal's passed")
	}
}
