package vault

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// rawCall sends a request to the fixture's vault with an optional bearer
// token and returns the status, the WWW-Authenticate header and the
// decoded Key Vault error.
func (f *kvFixture) rawCall(method, path, token, body string) (int, string, ErrorBody) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.vaultURL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.opts.Transport.(*http.Client).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error ErrorBody `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), e.Error
}

func (f *kvFixture) token(a tenantApp) string {
	f.t.Helper()
	tok, err := f.cred(a).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{DefaultResource + "/.default"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok.Token
}

func TestErrorsHaveKeyVaultShapeAndStatus(t *testing.T) {
	f := newKVFixture(t)
	admin := f.token(f.home)
	reader := f.newTenantApp("reader")
	// The reader's app lives in another tenant; give it a principal in the
	// vault's tenant instead.
	app, sp, err := f.ids.CreateApplication(context.Background(), f.home.tenant.ID, "secrets-user")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, _ := f.ids.AddClientSecret(context.Background(), f.home.tenant.ID, app.AppID, "t", 3600e9)
	user := tenantApp{tenant: f.home.tenant, app: app, sp: sp, secret: secret}
	f.grant(f.vault, sp.ID, roleSecretsUser)
	userTok := f.token(user)
	noRole, _, _ := f.ids.CreateApplication(context.Background(), f.home.tenant.ID, "no-role")
	nrSecret, _, _ := f.ids.AddClientSecret(context.Background(), f.home.tenant.ID, noRole.AppID, "t", 3600e9)
	noRoleTok := f.token(tenantApp{tenant: f.home.tenant, app: noRole, secret: nrSecret})
	if _, err := f.secretsClient(f.cred(f.home)).SetSecret(context.Background(), "s1", azsecrets.SetSecretParameters{Value: to.Ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}
	const v = "?api-version=7.5"
	cases := []struct {
		name               string
		method, path, body string
		token              string
		status             int
		code, inner        string
		challenge          bool
	}{
		{"no token gets the challenge", "GET", "/secrets/s1" + v, "", "", 401, "Unauthorized", "", true},
		{"garbage token gets the challenge", "GET", "/secrets/s1" + v, "", "not.a.jwt", 401, "Unauthorized", "", true},
		{"token of another tenant is refused", "GET", "/secrets/s1" + v, "", f.token(reader), 401, "Unauthorized", "", true},
		{"no role is forbidden by RBAC", "GET", "/secrets/s1" + v, "", noRoleTok, 403, "Forbidden", "ForbiddenByRbac", false},
		{"secrets user cannot set", "PUT", "/secrets/s2" + v, `{"value":"x"}`, userTok, 403, "Forbidden", "ForbiddenByRbac", false},
		{"secrets user can get", "GET", "/secrets/s1" + v, "", userTok, 200, "", "", false},
		{"secrets user cannot sign", "POST", "/keys/k/sign" + v, `{"alg":"RS256","value":"AA"}`, userTok, 403, "Forbidden", "ForbiddenByRbac", false},
		{"missing api-version", "GET", "/secrets/s1", "", admin, 400, "BadParameter", "", false},
		{"unknown api-version", "GET", "/secrets/s1?api-version=1.0", "", admin, 400, "BadParameter", "", false},
		{"malformed JSON", "PUT", "/secrets/s2" + v, `{"value":`, admin, 400, "BadParameter", "", false},
		{"missing value", "PUT", "/secrets/s2" + v, `{}`, admin, 400, "BadParameter", "", false},
		{"invalid name", "PUT", "/secrets/bad_name" + v, `{"value":"x"}`, admin, 400, "BadParameter", "", false},
		{"unknown secret", "GET", "/secrets/nope" + v, "", admin, 404, "SecretNotFound", "", false},
		{"unknown key", "GET", "/keys/nope" + v, "", admin, 404, "KeyNotFound", "", false},
		{"unknown certificate", "GET", "/certificates/nope" + v, "", admin, 404, "CertificateNotFound", "", false},
		{"unknown operation", "POST", "/secrets/s1/explode" + v, "{}", admin, 400, "BadParameter", "", false},
		{"bad key type", "POST", "/keys/k/create" + v, `{"kty":"oct"}`, admin, 400, "BadParameter", "", false},
		{"bad maxresults", "GET", "/secrets" + v + "&maxresults=99", "", admin, 400, "BadParameter", "", false},
		{"bad base64 digest", "POST", "/keys/k/sign" + v, `{"alg":"RS256","value":"!!"}`, admin, 400, "BadParameter", "", false},
		{"bad certificate policy", "POST", "/certificates/c/create" + v, `{"policy":{"issuer":{"name":"DigiCert"},"x509_props":{"subject":"CN=x"}}}`, admin, 400, "BadParameter", "", false},
		{"bad import", "POST", "/certificates/c/import" + v, `{"value":"bm90IGEgY2VydA=="}`, admin, 400, "BadParameter", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, challenge, e := f.rawCall(c.method, c.path, c.token, c.body)
			if status != c.status || e.Code != c.code {
				t.Fatalf("got %d %q (%s), want %d %q", status, e.Code, e.Message, c.status, c.code)
			}
			if c.inner != "" && (e.InnerError == nil || e.InnerError.Code != c.inner) {
				t.Fatalf("innererror = %+v, want %s", e.InnerError, c.inner)
			}
			if c.status >= 400 && e.Message == "" {
				t.Fatal("error without a message")
			}
			wantChallenge := `Bearer authorization="` + strings.TrimSuffix(f.authority, "/") + "/" + f.home.tenant.ID + `", resource="https://vault.azure.net"`
			if c.challenge && challenge != wantChallenge {
				t.Fatalf("WWW-Authenticate = %q, want %q", challenge, wantChallenge)
			}
		})
	}
}

func FuzzRoute(f *testing.F) {
	for _, s := range []string{"/secrets/a", "/keys/k//sign", "/certificates/c/pending/merge", "/deletedkeys/k/recover", "//", "/keys/a/b/c/d"} {
		f.Add("POST", s)
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		o, err := route(method, path)
		if err == nil && o == nil {
			t.Fatal("no op and no error")
		}
		if err != nil {
			if _, internal := errorStatus(err); internal {
				t.Fatalf("route error maps to 5xx: %v", err)
			}
		}
	})
}
