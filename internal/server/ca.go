package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/steward-gov/steward/internal/atomicfile"
)

// Names of the TLS files in DATA/tls.
const (
	tlsDir         = "tls"
	caCertFile     = "ca.pem"
	caKeyFile      = "ca-key.pem"
	serverCertFile = "server.pem"
	serverKeyFile  = "server-key.pem"
)

// serverRenewBefore is how close to expiry a server certificate is
// replaced on start.
const serverRenewBefore = 30 * 24 * time.Hour

// LocalCA is Steward's local certificate authority and the server
// certificate it issued, as files in the data directory.
type LocalCA struct {
	// CACertPath is the PEM CA certificate clients trust (SSL_CERT_FILE,
	// REQUESTS_CA_BUNDLE).
	CACertPath string
	// CACert is the parsed CA certificate.
	CACert *x509.Certificate
	// ServerCert is the serving certificate and key.
	ServerCert tls.Certificate
	// key is the CA's private key, which signs the forward proxy's leaf
	// certificates.
	key *ecdsa.PrivateKey
}

// CAPath returns where the CA certificate of a data directory is.
func CAPath(dataDir string) string { return filepath.Join(dataDir, tlsDir, caCertFile) }

// EnsureCA loads the CA and server certificate from DATA/tls, creating
// the CA on first start and (re)issuing the server certificate when it is
// missing, near expiry or lacks one of hosts (localhost, 127.0.0.1 and ::1
// are always included). Keys are ECDSA P-256 and written 0600.
func EnsureCA(dataDir string, hosts []string, now time.Time, rand io.Reader) (*LocalCA, error) {
	return EnsureSealedCA(context.Background(), dataDir, hosts, now, rand, nil)
}

// KeySealer seals private keys at rest: Steward's sealer (internal/seal).
type KeySealer interface {
	Seal(path string, plain []byte) ([]byte, error)
	Open(ctx context.Context, path string, sealed []byte) ([]byte, error)
}

// EnsureSealedCA is EnsureCA with the CA's and the serving certificate's
// private keys sealed by ks in their files (nil leaves them PEM). A key
// file still in clear PEM, as an older release wrote it, is read and
// written back sealed.
func EnsureSealedCA(ctx context.Context, dataDir string, hosts []string, now time.Time, rand io.Reader, ks KeySealer) (*LocalCA, error) {
	kf := keyFiles{ctx: ctx, ks: ks}
	dir := filepath.Join(dataDir, tlsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caCert, caKey, err := kf.loadPair(filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		caCert, caKey, err = kf.newCA(dir, now, rand)
	}
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	hosts = append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)
	srvCert, srvKey, err := kf.loadPair(filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	if err != nil || srvCert.NotAfter.Sub(now) < serverRenewBefore || !covers(srvCert, hosts) || srvCert.CheckSignatureFrom(caCert) != nil {
		srvCert, srvKey, err = kf.newServerCert(dir, caCert, caKey, hosts, now, rand)
		if err != nil {
			return nil, fmt.Errorf("server certificate: %w", err)
		}
	}
	return &LocalCA{
		CACertPath: filepath.Join(dir, caCertFile),
		CACert:     caCert,
		ServerCert: tls.Certificate{Certificate: [][]byte{srvCert.Raw, caCert.Raw}, PrivateKey: srvKey, Leaf: srvCert},
		key:        caKey,
	}, nil
}

// Pool returns a certificate pool trusting the CA.
func (ca *LocalCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.CACert)
	return p
}

func covers(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(c.DNSNames, h) {
			return false
		}
	}
	return true
}

func (kf keyFiles) newCA(dir string, now time.Time, rand io.Reader) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Steward local CA", Organization: []string{"Steward"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	return kf.issue(dir, caCertFile, caKeyFile, tmpl, nil, nil, key, rand)
}

func (kf keyFiles) newServerCert(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, now time.Time, rand io.Reader) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost", Organization: []string{"Steward"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return kf.issue(dir, serverCertFile, serverKeyFile, tmpl, ca, caKey, key, rand)
}

// issue signs tmpl (self-signed when parent is nil) and writes the
// certificate (0644) and key (0600) as PEM files.
func (kf keyFiles) issue(dir, certName, keyName string, tmpl, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey, rand io.Reader) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	serial := make([]byte, 16)
	if _, err := io.ReadFull(rand, serial); err != nil {
		return nil, nil, err
	}
	serial[0] &= 0x7f
	tmpl.SerialNumber = new(big.Int).SetBytes(serial)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := kf.write(filepath.Join(dir, keyName), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, certName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// loadPair reads a PEM certificate and its PKCS#8 ECDSA key.
func (kf keyFiles) loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	kb, err := kf.read(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cblk, _ := pem.Decode(cb)
	kblk, _ := pem.Decode(kb)
	if cblk == nil || kblk == nil {
		return nil, nil, fmt.Errorf("%s or %s is not PEM", certPath, keyPath)
	}
	cert, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", keyPath)
	}
	return cert, key, nil
}

// ParseCertificatePEM parses the first certificate of a PEM file.
func ParseCertificatePEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PEM certificate")
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// systemBundles are where Linux distributions keep their trusted roots.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
	"/etc/ssl/cert.pem",                  // macOS, BSDs
}

// WriteTrustBundle writes DATA/tls/ca-bundle.pem, the system's trusted
// roots followed by Steward's CA, and returns its path. Pointing
// SSL_CERT_FILE at it makes clients trust Steward without distrusting the
// rest of the web. When no system bundle is found it returns the CA's own
// path.
func WriteTrustBundle(dataDir string) (string, error) {
	ca, err := os.ReadFile(CAPath(dataDir))
	if err != nil {
		return "", err
	}
	for _, p := range systemBundles {
		sys, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if len(sys) > 0 && sys[len(sys)-1] != '\n' {
			sys = append(sys, '\n')
		}
		out := filepath.Join(dataDir, tlsDir, "ca-bundle.pem")
		return out, atomicfile.WriteFile(out, append(sys, ca...), 0o644)
	}
	return CAPath(dataDir), nil
}

// keyFiles reads and writes private-key files, sealed when ks is set.
type keyFiles struct {
	ctx context.Context
	ks  KeySealer
}

// sealPath binds a sealed key file to its name, so one file cannot be
// swapped for another.
func sealPath(path string) string { return "tls/" + filepath.Base(path) }

func (kf keyFiles) write(path string, pemKey []byte) error {
	if kf.ks != nil {
		sealed, err := kf.ks.Seal(sealPath(path), pemKey)
		clear(pemKey)
		if err != nil {
			return err
		}
		pemKey = sealed
	}
	return atomicfile.WriteFile(path, pemKey, 0o600)
}

func (kf keyFiles) read(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || kf.ks == nil {
		return b, err
	}
	if bytes.HasPrefix(b, []byte("-----BEGIN")) {
		// Written in clear by an older release: seal it now.
		if err := kf.write(path, bytes.Clone(b)); err != nil {
			return nil, fmt.Errorf("sealing %s: %w", path, err)
		}
		return b, nil
	}
	return kf.ks.Open(kf.ctx, sealPath(path), b)
}
