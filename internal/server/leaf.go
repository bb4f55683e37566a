package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"time"
)

// Leaf certificates of the forward proxy.
const (
	// leafLifetime is how long a leaf certificate is valid; it lives in
	// memory only, so a short life costs nothing.
	leafLifetime = 7 * 24 * time.Hour
	// leafRenewBefore is how close to expiry a cached leaf is replaced.
	leafRenewBefore = 24 * time.Hour
	// maxLeaves bounds the cache; vault and storage host names are
	// unbounded, so the cache forgets an arbitrary entry when full.
	maxLeaves = 4096
)

// LeafCache issues, from Steward's local CA, the serving certificates the
// forward proxy presents for Azure's host names (management.azure.com,
// {vault}.vault.azure.net, ...), one per host name, and keeps them in
// memory. All leaves share one P-256 key generated at start, so issuing
// one is a single signature. It is safe for concurrent use.
type LeafCache struct {
	ca   *x509.Certificate
	caKy *ecdsa.PrivateKey
	key  *ecdsa.PrivateKey
	rand io.Reader
	now  func() time.Time

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
	issued int
}

// NewLeafCache returns a cache issuing from ca, with randomness from rand.
func NewLeafCache(ca *LocalCA, rand io.Reader, now func() time.Time) (*LeafCache, error) {
	if ca == nil || ca.key == nil || ca.CACert == nil {
		return nil, errors.New("leaf certificates: the CA's private key is not loaded")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &LeafCache{ca: ca.CACert, caKy: ca.key, key: key, rand: rand, now: now, leaves: map[string]*tls.Certificate{}}, nil
}

// Get returns the leaf certificate for host (a DNS name or an IP
// address), issuing it on first use or near its expiry.
func (c *LeafCache) Get(host string) (*tls.Certificate, error) {
	host = hostName(host)
	now := c.now()
	c.mu.Lock()
	if l := c.leaves[host]; l != nil && l.Leaf.NotAfter.Sub(now) > leafRenewBefore {
		c.mu.Unlock()
		return l, nil
	}
	c.mu.Unlock()
	l, err := c.issue(host, now)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.leaves) >= maxLeaves {
		for k := range c.leaves {
			delete(c.leaves, k)
			break
		}
	}
	c.leaves[host] = l
	c.issued++
	return l, nil
}

// Issued is how many leaf certificates the cache has signed.
func (c *LeafCache) Issued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.issued
}

func (c *LeafCache) issue(host string, now time.Time) (*tls.Certificate, error) {
	serial := make([]byte, 16)
	if _, err := io.ReadFull(c.rand, serial); err != nil {
		return nil, err
	}
	serial[0] &= 0x7f
	notAfter := now.Add(leafLifetime)
	if notAfter.After(c.ca.NotAfter) {
		notAfter = c.ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		Subject:      pkix.Name{CommonName: host, Organization: []string{"Steward"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(c.rand, tmpl, c.ca, &c.key.PublicKey, c.caKy)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, c.ca.Raw}, PrivateKey: c.key, Leaf: leaf}, nil
}
