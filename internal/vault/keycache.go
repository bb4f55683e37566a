package vault

import (
	"crypto"
	"strings"
	"sync"
)

// keyCache keeps parsed private keys by version path, so signing does not
// parse PKCS #8 (and re-validate an RSA key) on every request. Key material
// of a version never changes, and every use first reads the version record
// (so a deleted, disabled or purged key is refused before the cache is
// consulted). It holds at most max keys; when full, an arbitrary entry
// makes room.
type keyCache struct {
	mu   sync.RWMutex
	max  int
	keys map[string]crypto.Signer
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, keys: map[string]crypto.Signer{}}
}

func (c *keyCache) get(path string, der []byte) (crypto.Signer, error) {
	if c.max > 0 {
		c.mu.RLock()
		k := c.keys[path]
		c.mu.RUnlock()
		if k != nil {
			return k, nil
		}
	}
	k, err := parsePrivate(der)
	if err != nil || c.max <= 0 {
		return k, err
	}
	c.mu.Lock()
	if len(c.keys) >= c.max {
		for p := range c.keys {
			delete(c.keys, p)
			break
		}
	}
	c.keys[path] = k
	c.mu.Unlock()
	return k, nil
}

func (c *keyCache) dropPrefix(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.keys {
		if strings.HasPrefix(p, prefix) {
			delete(c.keys, p)
		}
	}
}
