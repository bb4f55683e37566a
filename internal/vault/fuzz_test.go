package vault

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Parsers of caller input (subjects, imported certificates, JWKs) must
// answer malformed input with a 400 error, never panic or a 5xx.

func wantClientError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if err != nil && (!errors.As(err, &e) || e.Status >= 500) {
		t.Fatalf("error is not a 4xx vault error: %v", err)
	}
}

func FuzzParseDN(f *testing.F) {
	for _, s := range []string{"CN=*.microsoft.com", `CN=app, O="Contoso, Ltd", C=US`, "E=a@b.c;OU=x", "CN", "=,=,", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := parseDN(s)
		wantClientError(t, err)
	})
}

func FuzzDecodeImport(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pol, _ := normalizePolicy(&CertificatePolicy{Issuer: &IssuerParameters{Name: "Self"}, X509Props: &X509Properties{Subject: "CN=fuzz"}}, 0)
	der, err := selfSign(pol, key, time.Now(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})) + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	pfx, _ := pkcs12.LegacyDES.Encode(key, cert, nil, "pw")
	f.Add(pemText, "")
	f.Add(base64.StdEncoding.EncodeToString(pfx), "pw")
	f.Add(base64.StdEncoding.EncodeToString(pfx[:len(pfx)/2]), "pw")
	f.Add("MIIJ...", "123")
	f.Fuzz(func(t *testing.T, value, password string) {
		_, _, _, _, err := decodeImport(value, password)
		wantClientError(t, err)
	})
}

func FuzzPrivateFromJWK(f *testing.F) {
	f.Add(`{"kty":"RSA","n":"2HJAE5fU3Cw2Rt9hEuq-F6XjINKGa-zskfISVqopqUy60GOs2eyhxbWbJBeUXNor_gf-tXtNeuqeBgitLeVa640UDvnEjYTKWjCniTxZRaU7ewY8BfTSk-7KxoDdLsPSpX_MX4rwlAx-_1UGk5t4sQgTbm9T6Fm2oqFd37dsz5-Gj27UP2GTAShfJPFD7MqU_zIgOI0pfqsbNL5xTQVM29K6rX4jSPtylZV3uWJtkoQIQnrIHhk1d0SC0KwlBV3V7R_LVYjiXLyIXsFzSNYgQ68ZjAwt8iL7I8Osa-ehQLM13DVvLASaf7Jnu3sC3CWl3Gyirgded6cfMmswJzY87w","e":"AQAB"}`)
	f.Add(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AQ"}`)
	f.Add(`{"kty":"RSA","n":"AQ","e":"AQ","d":"AQ","p":"AQ","q":"AQ"}`)
	if b, err := os.ReadFile(filepath.Join(specExamplesDir, "CreateKey-example.json")); err == nil {
		var ex struct {
			Responses map[string]struct {
				Body struct {
					Key json.RawMessage `json:"key"`
				} `json:"body"`
			} `json:"responses"`
		}
		if json.Unmarshal(b, &ex) == nil {
			f.Add(string(ex.Responses["200"].Body.Key))
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		var j JSONWebKey
		if json.Unmarshal([]byte(s), &j) != nil {
			return
		}
		_, _, err := privateFromJWK(j)
		wantClientError(t, err)
	})
}
