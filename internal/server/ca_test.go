package server

import (
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestEnsureCACreatesOnceAndServesLoopback(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, err := EnsureCA(dir, nil, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{caKeyFile, serverKeyFile} {
		st, err := os.Stat(filepath.Join(dir, tlsDir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st.Mode(), err)
		}
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := ca.ServerCert.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: ca.Pool(), CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	again, err := EnsureCA(dir, nil, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !again.CACert.Equal(ca.CACert) || !again.ServerCert.Leaf.Equal(ca.ServerCert.Leaf) {
		t.Error("second start replaced the CA or the server certificate")
	}
	// Near expiry, or with a new host name, the server certificate is
	// reissued by the same CA.
	later, err := EnsureCA(dir, nil, now.AddDate(1, 0, -10), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if later.ServerCert.Leaf.Equal(ca.ServerCert.Leaf) || !later.CACert.Equal(ca.CACert) {
		t.Error("server certificate was not renewed near expiry")
	}
	named, err := EnsureCA(dir, []string{"steward.example"}, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := named.ServerCert.Leaf.Verify(x509.VerifyOptions{DNSName: "steward.example", Roots: named.Pool(), CurrentTime: now}); err != nil {
		t.Error(err)
	}
}
