package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// TestNoSecretValueOrPrivateKeyInTheDataDirectory writes a secret and an
// exportable certificate through the API, closes the store, and scans
// every file of the data directory (database, WAL, key files) for the
// secret value and the certificate's private key, in raw and encoded
// forms. None may be there.
func TestNoSecretValueOrPrivateKeyInTheDataDirectory(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	cred := f.cred(f.home)
	canary := "canary-" + hex.EncodeToString(randBytes(t, 12))
	if _, err := f.secretsClient(cred).SetSecret(ctx, "canary", azsecrets.SetSecretParameters{Value: to.Ptr(canary)}, nil); err != nil {
		t.Fatal(err)
	}
	f.createSelfSigned(f.certsClient(cred), "exportable", "application/x-pkcs12", true)
	sec, err := f.secretsClient(cred).GetSecret(ctx, "exportable", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pfx, _ := base64.StdEncoding.DecodeString(*sec.Value)
	_, key, err := azidentity.ParseCertificates(pfx, nil)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.secretsClient(cred).GetSecret(ctx, "canary", "", nil); err != nil || *got.Value != canary {
		t.Fatalf("read back = %v", err)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{
		"secret value":               []byte(canary),
		"secret value (base64)":      []byte(base64.StdEncoding.EncodeToString([]byte(canary))[:16]),
		"private key (PKCS #8 DER)":  keyDER[len(keyDER)-64:],
		"private key (base64 DER)":   []byte(base64.StdEncoding.EncodeToString(keyDER)[100:140]),
		"backing PFX (base64 value)": []byte((*sec.Value)[100:140]),
	}
	// Object names are stored in clear (keys), so finding this one proves
	// the scan sees the records.
	control := []byte("testvault/secrets/canary")
	controlFound := false
	scanned := 0
	err = filepath.WalkDir(f.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned += len(b)
		controlFound = controlFound || bytes.Contains(b, control)
		for what, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s found in %s", what, filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !controlFound {
		t.Fatalf("scanned %d bytes without finding the record key %q; the scan misses the database", scanned, control)
	}
}

func randBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
