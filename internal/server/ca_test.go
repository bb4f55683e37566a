package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
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

// boxSealer is a KeySealer for tests: it tags and reverses the bytes, and
// checks the path it was sealed for.
type boxSealer struct{}

func (boxSealer) Seal(path string, plain []byte) ([]byte, error) {
	out := []byte("box:" + path + ":")
	for i := len(plain) - 1; i >= 0; i-- {
		out = append(out, plain[i])
	}
	return out, nil
}

func (boxSealer) Open(_ context.Context, path string, sealed []byte) ([]byte, error) {
	prefix := []byte("box:" + path + ":")
	if !bytes.HasPrefix(sealed, prefix) {
		return nil, fmt.Errorf("sealed for another path")
	}
	b := sealed[len(prefix):]
	out := make([]byte, 0, len(b))
	for i := len(b) - 1; i >= 0; i-- {
		out = append(out, b[i])
	}
	return out, nil
}

func TestCAKeysAreSealedAndClearOnesMigrated(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	plain, err := EnsureCA(dir, nil, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := EnsureSealedCA(context.Background(), dir, nil, now, rand.Reader, boxSealer{})
	if err != nil {
		t.Fatal(err)
	}
	if !sealed.CACert.Equal(plain.CACert) || !sealed.key.Equal(plain.key) || !bytes.Equal(sealed.ServerCert.Leaf.Raw, plain.ServerCert.Leaf.Raw) {
		t.Error("the migrated CA is not the same CA")
	}
	for _, f := range []string{caKeyFile, serverKeyFile} {
		b, err := os.ReadFile(filepath.Join(dir, tlsDir, f))
		if err != nil || bytes.Contains(b, []byte("PRIVATE KEY")) || !bytes.HasPrefix(b, []byte("box:tls/"+f+":")) {
			t.Errorf("%s is not sealed: %q", f, b[:min(len(b), 40)])
		}
	}
	again, err := EnsureSealedCA(context.Background(), dir, nil, now, rand.Reader, boxSealer{})
	if err != nil || !again.key.Equal(plain.key) {
		t.Fatalf("reopening the sealed CA: %v", err)
	}
	// A sealed key file cannot be read without the sealer.
	if _, err := EnsureCA(dir, nil, now, rand.Reader); err == nil {
		t.Error("a sealed CA opened without its sealer")
	}
}
