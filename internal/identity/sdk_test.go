package identity

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// sdkFixture serves a fixture's token service over TLS (httptest's own
// certificate, trusted through the test server's client) and returns the
// azcore client options that point the Azure SDK at it.
func sdkFixture(t *testing.T) (*fixture, azcore.ClientOptions) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	f := newFixture(t, ts.URL+"/")
	f.clock = nil // the SDK signs with the wall clock; use it on the server too
	f.svc.opts.Now = time.Now
	ts.Config.Handler = f.svc.Handler()
	opts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: ts.URL + "/"},
		Transport: ts.Client(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
	return f, opts
}

func TestAzureSDKClientSecretCredentialGetsValidToken(t *testing.T) {
	f, opts := sdkFixture(t)
	cred, err := azidentity.NewClientSecretCredential(f.tenant.ID, f.app.AppID, f.secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	checkSDKToken(t, f, cred)
}

func TestAzureSDKClientCertificateCredentialGetsValidToken(t *testing.T) {
	f, opts := sdkFixture(t)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.cert.Raw})
	keyDER, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes = append(pemBytes, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	certs, key, err := azidentity.ParseCertificates(pemBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sendChain := range []bool{false, true} {
		cred, err := azidentity.NewClientCertificateCredential(f.tenant.ID, f.app.AppID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true, SendCertificateChain: sendChain})
		if err != nil {
			t.Fatal(err)
		}
		checkSDKToken(t, f, cred)
	}
}

func TestAzureSDKReportsWrongSecretAsAuthenticationFailure(t *testing.T) {
	f, opts := sdkFixture(t)
	cred, err := azidentity.NewClientSecretCredential(f.tenant.ID, f.app.AppID, "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		t.Fatalf("err = %v, want AuthenticationFailedError", err)
	}
	if afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusUnauthorized {
		t.Errorf("raw response = %+v", afe.RawResponse)
	}
}

func checkSDKToken(t *testing.T, f *fixture, cred azcore.TokenCredential) {
	t.Helper()
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if time.Until(tok.ExpiresOn) < 50*time.Minute {
		t.Errorf("ExpiresOn = %v, want about an hour ahead", tok.ExpiresOn)
	}
	v := f.validator()
	v.Now = time.Now
	p, err := v.Validate(context.Background(), tok.Token)
	if err != nil {
		t.Fatalf("SDK token does not validate: %v", err)
	}
	if p.ObjectID != f.sp.ID || p.AppID != f.app.AppID || p.TenantID != f.tenant.ID {
		t.Errorf("principal = %+v", p)
	}
}
