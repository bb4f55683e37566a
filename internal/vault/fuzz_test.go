package vault

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// FuzzHandler sends arbitrary methods, paths and bodies, authenticated as
// the vault's administrator, straight to the handler: every answer must be
// a Key Vault error or success, never a 5xx.
func FuzzHandler(f *testing.F) {
	fx := newKVFixture(f)
	token := fx.token(fx.home)
	ctx := context.Background()
	if _, err := fx.svc.CreateKey(ctx, fx.vault, "k", KeyCreateParams{Kty: "RSA"}); err != nil {
		f.Fatal(err)
	}
	if _, err := fx.svc.SetSecret(ctx, fx.vault, "s", SecretSetParams{Value: strPtr("v")}); err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ method, path, body string }{
		{"PUT", "/secrets/s", `{"value":"x","attributes":{"enabled":false,"exp":1}}`},
		{"PATCH", "/secrets/s/", `{"tags":{"a":"b"}}`},
		{"POST", "/keys/k/sign", `{"alg":"PS512","value":"AAAA"}`},
		{"POST", "/keys/k//decrypt", `{"alg":"RSA-OAEP","value":"AAAA"}`},
		{"PUT", "/keys/j", `{"key":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}`},
		{"PUT", "/keys/k/rotationpolicy", `{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P1X"},"action":{"type":"Rotate"}}]}`},
		{"POST", "/certificates/c/create", `{"policy":{"issuer":{"name":"Self"},"x509_props":{"subject":"CN=a","validity_months":-1}}}`},
		{"POST", "/certificates/c/pending/merge", `{"x5c":["AAAA"]}`},
		{"DELETE", "/deletedkeys/k", ""},
		{"GET", "/secrets?maxresults=0", ""},
	}
	if entries, err := os.ReadDir(specExamplesDir); err == nil {
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(specExamplesDir, e.Name()))
			if err != nil {
				continue
			}
			var ex struct {
				Parameters struct {
					Body json.RawMessage `json:"parameters"`
				} `json:"parameters"`
			}
			if json.Unmarshal(b, &ex) == nil && len(ex.Parameters.Body) > 0 {
				seeds = append(seeds, struct{ method, path, body string }{"POST", "/certificates/c/import", string(ex.Parameters.Body)})
			}
		}
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !utf8.ValidString(path) || strings.ContainsAny(path, "?# \r\n\t") || !strings.HasPrefix(path, "/") {
			return
		}
		req := httptest.NewRequest("GET", "https://testvault.vault.azure.net/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = path
		req.URL.RawQuery = "api-version=7.5"
		req.Host = "testvault.vault.azure.net"
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		fx.kv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body.String())
		}
	})
}
