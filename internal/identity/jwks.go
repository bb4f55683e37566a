package identity

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxJWKSBytes caps a fetched key set.
const maxJWKSBytes = 1 << 20

// RemoteJWKS is a [KeySource] that fetches each tenant's JWKS over HTTP,
// from {Authority}{tenant}/discovery/v2.0/keys, and caches it for TTL. An
// unknown kid triggers one refetch, at most once per MinRefresh, so a key
// rotation is picked up without letting bad tokens hammer the key
// endpoint. It lets Steward's validator run against Entra itself as well
// as against another Steward.
type RemoteJWKS struct {
	// Authority is the token service's base URL, such as
	// "https://login.microsoftonline.com/".
	Authority string
	// Client makes the requests (default http.DefaultClient).
	Client *http.Client
	// TTL is how long a fetched set is used (default 1h); MinRefresh is the
	// least time between two fetches for one tenant (default 1m).
	TTL, MinRefresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*fetchedSet
}

type fetchedSet struct {
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// PublicKey implements KeySource.
func (j *RemoteJWKS) PublicKey(ctx context.Context, tenantID, kid string) (*rsa.PublicKey, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	ttl, minRefresh := j.TTL, j.MinRefresh
	if ttl == 0 {
		ttl = time.Hour
	}
	if minRefresh == 0 {
		minRefresh = time.Minute
	}
	tid := strings.ToLower(tenantID)
	j.mu.Lock()
	set := j.cache[tid]
	j.mu.Unlock()
	t := now()
	if set != nil {
		if k, ok := set.keys[kid]; ok && t.Sub(set.fetched) < ttl {
			return k, nil
		}
		if t.Sub(set.fetched) < minRefresh {
			if k, ok := set.keys[kid]; ok {
				return k, nil
			}
			return nil, errUnknownKey
		}
	}
	fresh, err := j.fetch(ctx, tid)
	if err != nil {
		return nil, err
	}
	fresh.fetched = t
	j.mu.Lock()
	if j.cache == nil {
		j.cache = map[string]*fetchedSet{}
	}
	j.cache[tid] = fresh
	j.mu.Unlock()
	if k, ok := fresh.keys[kid]; ok {
		return k, nil
	}
	return nil, errUnknownKey
}

func (j *RemoteJWKS) fetch(ctx context.Context, tenantID string) (*fetchedSet, error) {
	u := strings.TrimSuffix(j.Authority, "/") + "/" + tenantID + "/discovery/v2.0/keys"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	c := j.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("identity: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		// An unknown tenant: the token names no key anyone publishes.
		return nil, fmt.Errorf("%w: JWKS %s: status %d", errUnknownKey, u, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("identity: fetch JWKS %s: status %d", u, resp.StatusCode)
	}
	var set JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("identity: decode JWKS %s: %w", u, err)
	}
	out := &fetchedSet{keys: map[string]*rsa.PublicKey{}}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 || len(n) < 256 {
			continue // not a usable RSA key of 2048 bits or more
		}
		out.keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}
