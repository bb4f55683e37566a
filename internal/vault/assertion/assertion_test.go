package assertion

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	certfake "github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	keyfake "github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys/fake"
)

// TestAssertionIsAPS256JWTSignedByTheVault drives New with the SDKs' fake
// servers: the certificate comes from GetCertificate, the signature from
// Sign over the SHA-256 of the signing input. The JWT must carry the
// claims Entra (and Steward) check and verify with the certificate's key.
func TestAssertionIsAPS256JWTSignedByTheVault(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Unix(1_800_000_000, 0)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	cer, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	const vault = "https://v.vault.azure.net"
	var signedName, signedVersion string
	keys := keyfake.Server{Sign: func(ctx context.Context, name, version string, p azkeys.SignParameters, _ *azkeys.SignOptions) (resp azfake.Responder[azkeys.SignResponse], errResp azfake.ErrorResponder) {
		signedName, signedVersion = name, version
		if *p.Algorithm != azkeys.SignatureAlgorithmPS256 {
			t.Errorf("algorithm %s", *p.Algorithm)
		}
		sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, p.Value, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Error(err)
		}
		resp.SetResponse(http.StatusOK, azkeys.SignResponse{KeyOperationResult: azkeys.KeyOperationResult{Result: sig}}, nil)
		return
	}}
	certs := certfake.Server{GetCertificate: func(ctx context.Context, name, version string, _ *azcertificates.GetCertificateOptions) (resp azfake.Responder[azcertificates.GetCertificateResponse], errResp azfake.ErrorResponder) {
		resp.SetResponse(http.StatusOK, azcertificates.GetCertificateResponse{Certificate: azcertificates.Certificate{
			CER: cer, KID: to.Ptr(azcertificates.ID(vault + "/keys/" + strings.Trim(name, "/") + "/0123456789abcdef0123456789abcdef"))}}, nil)
		return
	}}
	kc, _ := azkeys.NewClient(vault, &azfake.TokenCredential{}, &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: keyfake.NewServerTransport(&keys)}})
	cc, _ := azcertificates.NewClient(vault, &azfake.TokenCredential{}, &azcertificates.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: certfake.NewServerTransport(&certs)}})
	get := New(Config{Keys: kc, Certificates: cc, Certificate: "signer", AuthorityHost: "https://login.example/",
		TenantID: "tenant-b", ClientID: "app-b", Now: func() time.Time { return now }})
	jwt, err := get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The fakes' path patterns may leave a slash on the name; the two
	// together must name the certificate's key version.
	if got := strings.Trim(signedName+"/"+signedVersion, "/"); got != "signer/0123456789abcdef0123456789abcdef" {
		t.Fatalf("signed with %s", got)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	var header, claims map[string]any
	decode := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	thumb := sha256.Sum256(cer)
	if header["alg"] != "PS256" || header["typ"] != "JWT" || header["x5t#S256"] != base64.RawURLEncoding.EncodeToString(thumb[:]) {
		t.Fatalf("header = %v", header)
	}
	if claims["aud"] != "https://login.example/tenant-b/oauth2/v2.0/token" || claims["iss"] != "app-b" || claims["sub"] != "app-b" ||
		claims["nbf"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(Lifetime).Unix()) || claims["jti"] == "" {
		t.Fatalf("claims = %v", claims)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, digest[:], sig, nil); err != nil {
		t.Fatalf("signature: %v", err)
	}
	again, _ := get(context.Background())
	if again == jwt {
		t.Fatal("two assertions share a jti")
	}
}
