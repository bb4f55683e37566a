package identity

import (
	"strings"
	"sync"
	"time"
)

// Client lockout: after lockoutThreshold failed client authentications of
// one application within lockoutWindow, the application's token requests
// are refused for lockoutDuration, correct credentials included, so a
// secret or key cannot be guessed at the speed of the endpoint. The
// figures are Entra's smart lockout defaults (10 failures, 60 seconds).
// Counts are per process: each replica locks out on its own.
const (
	lockoutThreshold = 10
	lockoutWindow    = time.Minute
	lockoutDuration  = time.Minute
	// lockoutMaxClients bounds the table; only applications that exist are
	// counted, so it fills only in a directory with that many clients
	// failing at once, and then the oldest entries go.
	lockoutMaxClients = 10000
)

// lockouts counts failed client authentications per tenant and client.
type lockouts struct {
	mu      sync.Mutex
	clients map[string]*lockoutEntry
}

type lockoutEntry struct {
	failures    int
	windowStart time.Time
	lockedUntil time.Time
}

func lockoutKey(tenantID, appID string) string {
	return strings.ToLower(tenantID) + "/" + strings.ToLower(appID)
}

// locked returns how long the client stays locked out, 0 when it is not.
func (l *lockouts) locked(tenantID, appID string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.clients[lockoutKey(tenantID, appID)]
	if e == nil || !now.Before(e.lockedUntil) {
		return 0
	}
	return e.lockedUntil.Sub(now)
}

// fail records a failed authentication and reports whether it locked the
// client out.
func (l *lockouts) fail(tenantID, appID string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[string]*lockoutEntry{}
	}
	k := lockoutKey(tenantID, appID)
	e := l.clients[k]
	if e == nil {
		if len(l.clients) >= lockoutMaxClients {
			l.evict(now)
		}
		e = &lockoutEntry{windowStart: now}
		l.clients[k] = e
	}
	if now.Sub(e.windowStart) > lockoutWindow {
		e.failures, e.windowStart = 0, now
	}
	e.failures++
	if e.failures >= lockoutThreshold {
		e.failures, e.windowStart, e.lockedUntil = 0, now, now.Add(lockoutDuration)
		return true
	}
	return false
}

// succeed forgets the client's failures.
func (l *lockouts) succeed(tenantID, appID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clients, lockoutKey(tenantID, appID))
}

// evict drops the entries that are neither locked nor counting, or, when
// none is, the one whose window started first. The caller holds l.mu.
func (l *lockouts) evict(now time.Time) {
	var oldest string
	for k, e := range l.clients {
		if !now.Before(e.lockedUntil) && now.Sub(e.windowStart) > lockoutWindow {
			delete(l.clients, k)
			continue
		}
		if oldest == "" || e.windowStart.Before(l.clients[oldest].windowStart) {
			oldest = k
		}
	}
	if len(l.clients) >= lockoutMaxClients && oldest != "" {
		delete(l.clients, oldest)
	}
}
