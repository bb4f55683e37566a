package vault

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

// vaultCacheTTL bounds how long a replica serves a vault record it read
// before: a vault created or deleted on another replica is seen within it.
// Changes made through this replica are seen at once.
const vaultCacheTTL = 2 * time.Second

// vaultCache keeps recently read vault records by lower-case name.
type vaultCache struct {
	mu sync.RWMutex
	m  map[string]cachedVault
}

type cachedVault struct {
	v       Vault
	expires time.Time
}

func (c *vaultCache) get(name string, now time.Time) (Vault, bool) {
	c.mu.RLock()
	e, ok := c.m[strings.ToLower(name)]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		return Vault{}, false
	}
	return e.v, true
}

func (c *vaultCache) put(v Vault, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 4096 {
		c.m = map[string]cachedVault{}
	}
	c.m[strings.ToLower(v.Name)] = cachedVault{v: v, expires: now.Add(vaultCacheTTL)}
}

func (c *vaultCache) drop(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, strings.ToLower(name))
}

// tokenCacheTTL is how long a validated bearer token is trusted without
// checking its signature again. It is shorter than the validator's clock
// skew (5 minutes), so a cached token is never accepted later than the
// validator itself would accept it.
const tokenCacheTTL = time.Minute

// maxCachedTokens bounds the token cache; when full it starts over.
const maxCachedTokens = 10000

// tokenCache keeps the principals of recently validated tokens by SHA-256
// of the raw token, so the signature check (an RSA verification and JSON
// parsing) runs once a minute per token rather than on every request.
type tokenCache struct {
	mu sync.RWMutex
	m  map[[32]byte]cachedToken
}

type cachedToken struct {
	p       identity.Principal
	expires time.Time
}

func (c *tokenCache) get(raw string, now time.Time) (identity.Principal, bool) {
	k := sha256.Sum256([]byte(raw))
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		return identity.Principal{}, false
	}
	return e.p, true
}

func (c *tokenCache) put(raw string, p identity.Principal, now time.Time) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = map[[32]byte]cachedToken{}
	}
	c.m[k] = cachedToken{p: p, expires: now.Add(tokenCacheTTL)}
}

// opCacheTTL bounds how long a key version read for a cryptographic
// operation is reused. Any write through this Service clears the cache at
// once; a key disabled or deleted through another replica stops working
// here within the TTL.
const opCacheTTL = 2 * time.Second

// opKeyCache keeps the key versions recently used for sign, verify,
// encrypt and decrypt, so those operations skip the store read.
type opKeyCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]cachedOpKey
}

type cachedOpKey struct {
	h       head
	ver     version
	gen     uint64
	expires time.Time
}

func (c *opKeyCache) get(k string, now time.Time) (head, version, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[k]
	if !ok || e.gen != c.gen || now.After(e.expires) {
		return head{}, version{}, false
	}
	return e.h, e.ver, true
}

// put stores an entry read under generation gen; an entry read before a
// concurrent write is never stored as current.
func (c *opKeyCache) put(k string, h head, ver version, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) > 4096 {
		c.m = map[string]cachedOpKey{}
	}
	c.m[k] = cachedOpKey{h: h, ver: ver, gen: gen, expires: now.Add(opCacheTTL)}
}

func (c *opKeyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// invalidate forgets every entry; called on every write.
func (c *opKeyCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
