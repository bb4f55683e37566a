package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

func (f *kvFixture) certsClient(cred azcore.TokenCredential) *azcertificates.Client {
	f.t.Helper()
	c, err := azcertificates.NewClient(f.vaultURL, cred, &azcertificates.ClientOptions{ClientOptions: f.opts})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func selfPolicy(subject, contentType string, exportable bool) azcertificates.CertificatePolicy {
	return azcertificates.CertificatePolicy{
		IssuerParameters: &azcertificates.IssuerParameters{Name: to.Ptr("Self")},
		KeyProperties:    &azcertificates.KeyProperties{KeyType: to.Ptr(azcertificates.KeyTypeRSA), KeySize: to.Ptr(int32(2048)), Exportable: to.Ptr(exportable)},
		SecretProperties: &azcertificates.SecretProperties{ContentType: to.Ptr(contentType)},
		X509CertificateProperties: &azcertificates.X509CertificateProperties{Subject: to.Ptr(subject), ValidityInMonths: to.Ptr(int32(12)),
			SubjectAlternativeNames: &azcertificates.SubjectAlternativeNames{DNSNames: []*string{to.Ptr("app.example.test")}}},
	}
}

// createSelfSigned creates a self-signed certificate and waits for its
// operation.
func (f *kvFixture) createSelfSigned(c *azcertificates.Client, name, contentType string, exportable bool) azcertificates.Certificate {
	f.t.Helper()
	ctx := context.Background()
	op, err := c.CreateCertificate(ctx, name, azcertificates.CreateCertificateParameters{CertificatePolicy: to.Ptr(selfPolicy("CN="+name, contentType, exportable))}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if *op.Status != "inProgress" {
		f.t.Fatalf("create answered status %q, want inProgress as Key Vault does", *op.Status)
	}
	if done, err := c.GetCertificateOperation(ctx, name, nil); err != nil || *done.Status != "completed" {
		f.t.Fatalf("operation after create: %v %v", done.Status, err)
	}
	got, err := c.GetCertificate(ctx, name, "", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return got.Certificate
}

func TestAzcertificatesSelfSignedExposesKeyAndSecret(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	cred := f.cred(f.home)
	c := f.certsClient(cred)
	cert := f.createSelfSigned(c, "web", "application/x-pkcs12", true)
	parsed, err := x509.ParseCertificate(cert.CER)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(cert.CER)
	if parsed.Subject.CommonName != "web" || parsed.DNSNames[0] != "app.example.test" || string(cert.X509Thumbprint) != string(sum[:]) {
		t.Fatalf("certificate = %v %v, x5t mismatch", parsed.Subject, parsed.DNSNames)
	}
	if cert.KID.Name() != "web" || cert.SID.Name() != "web" || cert.KID.Version() != cert.ID.Version() || cert.SID.Version() != cert.ID.Version() {
		t.Fatalf("kid %s sid %s id %s", *cert.KID, *cert.SID, *cert.ID)
	}
	if cert.Policy == nil || *cert.Policy.IssuerParameters.Name != "Self" {
		t.Fatalf("policy = %+v", cert.Policy)
	}
	op, err := c.GetCertificateOperation(ctx, "web", nil)
	if err != nil || *op.Status != "completed" || !strings.HasSuffix(*op.Target, "/certificates/web") {
		t.Fatalf("operation = %+v, %v", op, err)
	}

	sec, err := f.secretsClient(cred).GetSecret(ctx, "web", cert.SID.Version(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !*sec.Managed || *sec.ContentType != "application/x-pkcs12" || sec.KID == nil {
		t.Fatalf("backing secret = %+v", sec.Attributes)
	}
	pfx, _ := base64.StdEncoding.DecodeString(*sec.Value)
	certs, key, err := azidentity.ParseCertificates(pfx, nil)
	if err != nil || key == nil || !certs[0].Equal(parsed) {
		t.Fatalf("PFX from the secret: %v", err)
	}
	kb, err := f.keysClient(cred).GetKey(ctx, "web", cert.KID.Version(), nil)
	if err != nil || !*kb.Managed {
		t.Fatalf("backing key = %+v, %v", kb, err)
	}
	// The managed secret cannot be overwritten directly.
	_, err = f.secretsClient(cred).SetSecret(ctx, "web", azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil)
	wantResponseError(t, err, http.StatusForbidden, "Forbidden")

	second := f.createSelfSigned(c, "web", "application/x-pkcs12", true)
	n := 0
	for pager := c.NewListCertificatePropertiesVersionsPager("web", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n != 2 || second.ID.Version() == cert.ID.Version() {
		t.Fatalf("%d versions", n)
	}
	upd, err := c.UpdateCertificate(ctx, "web", "", azcertificates.UpdateCertificateParameters{Tags: map[string]*string{"owner": to.Ptr("ops")}}, nil)
	if err != nil || *upd.Tags["owner"] != "ops" {
		t.Fatalf("update = %+v, %v", upd.Tags, err)
	}

	if _, err := c.DeleteCertificate(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.secretsClient(cred).GetSecret(ctx, "web", "", nil)
	wantResponseError(t, err, http.StatusNotFound, "SecretNotFound")
	_, err = c.CreateCertificate(ctx, "web", azcertificates.CreateCertificateParameters{CertificatePolicy: to.Ptr(selfPolicy("CN=web", "application/x-pkcs12", true))}, nil)
	wantResponseError(t, err, http.StatusConflict, "Conflict")
	if _, err := c.RecoverDeletedCertificate(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.secretsClient(cred).GetSecret(ctx, "web", "", nil); err != nil {
		t.Fatalf("secret after recover: %v", err)
	}
	if _, err := c.DeleteCertificate(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PurgeDeletedCertificate(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.keysClient(cred).GetDeletedKey(ctx, "web", nil)
	wantResponseError(t, err, http.StatusNotFound, "KeyNotFound")
}

func TestAzcertificatesUnknownIssuerCSRAndMerge(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	c := f.certsClient(f.cred(f.home))
	pol := selfPolicy("CN=csr-app, O=Contoso", "application/x-pem-file", true)
	pol.IssuerParameters.Name = to.Ptr("Unknown")
	op, err := c.CreateCertificate(ctx, "csr-app", azcertificates.CreateCertificateParameters{CertificatePolicy: &pol}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *op.Status != "inProgress" || len(op.CSR) == 0 {
		t.Fatalf("operation = %s, %d-byte CSR", *op.Status, len(op.CSR))
	}
	csr, err := x509.ParseCertificateRequest(op.CSR)
	if err != nil || csr.CheckSignature() != nil || csr.Subject.CommonName != "csr-app" {
		t.Fatalf("CSR: %v", err)
	}
	_, err = c.GetCertificate(ctx, "csr-app", "", nil)
	wantResponseError(t, err, http.StatusNotFound, "CertificateNotFound")

	// A CA outside the vault signs the CSR; the merge completes it.
	caCert, caKey := testCA(t)
	issue := func(pub any) []byte {
		now := time.Now()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: csr.Subject, NotBefore: now.Add(-time.Minute),
			NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	issued := issue(csr.PublicKey)
	if _, err := c.MergeCertificate(ctx, "csr-app", azcertificates.MergeCertificateParameters{X509Certificates: [][]byte{issued, caCert.Raw}}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetCertificate(ctx, "csr-app", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.CER) != string(issued) {
		t.Fatal("merged certificate differs from the issued one")
	}
	sec, err := f.secretsClient(f.cred(f.home)).GetSecret(ctx, "csr-app", "", nil)
	if err != nil || strings.Count(*sec.Value, "BEGIN CERTIFICATE") != 2 || !strings.Contains(*sec.Value, "BEGIN PRIVATE KEY") {
		t.Fatalf("PEM secret with chain: %v", err)
	}
	_, err = c.MergeCertificate(ctx, "csr-app", azcertificates.MergeCertificateParameters{X509Certificates: [][]byte{issued}}, nil)
	wantResponseError(t, err, http.StatusNotFound, "PendingCertificateNotFound")

	// A certificate for another key is refused.
	if _, err := c.CreateCertificate(ctx, "csr-two", azcertificates.CreateCertificateParameters{CertificatePolicy: &pol}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.MergeCertificate(ctx, "csr-two", azcertificates.MergeCertificateParameters{X509Certificates: [][]byte{issue(caKey.Public())}}, nil)
	wantResponseError(t, err, http.StatusBadRequest, "BadParameter")
	if _, err := c.DeleteCertificateOperation(ctx, "csr-two", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetCertificateOperation(ctx, "csr-two", nil)
	wantResponseError(t, err, http.StatusNotFound, "CertificateNotFound")
}

func TestAzcertificatesImportPEMAndPFX(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	cred := f.cred(f.home)
	c := f.certsClient(cred)
	src := f.createSelfSigned(c, "source", "application/x-pem-file", true)
	sec, err := f.secretsClient(cred).GetSecret(ctx, "source", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := c.ImportCertificate(ctx, "from-pem", azcertificates.ImportCertificateParameters{Base64EncodedCertificate: sec.Value}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(imp.CER) != string(src.CER) || *imp.Policy.SecretProperties.ContentType != "application/x-pem-file" {
		t.Fatal("PEM import changed the certificate or content type")
	}
	pfxSrc := f.createSelfSigned(c, "pfx-source", "application/x-pkcs12", true)
	pfxSec, err := f.secretsClient(cred).GetSecret(ctx, "pfx-source", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	imp2, err := c.ImportCertificate(ctx, "from-pfx", azcertificates.ImportCertificateParameters{Base64EncodedCertificate: pfxSec.Value}, nil)
	if err != nil || string(imp2.CER) != string(pfxSrc.CER) {
		t.Fatalf("PFX import: %v", err)
	}
	// PKCS #1 keys are refused, as Key Vault accepts PKCS #8 only.
	bad := strings.Replace(*sec.Value, "BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY", 1)
	bad = strings.Replace(bad, "END PRIVATE KEY", "END RSA PRIVATE KEY", 1)
	_, err = c.ImportCertificate(ctx, "bad", azcertificates.ImportCertificateParameters{Base64EncodedCertificate: &bad}, nil)
	wantResponseError(t, err, http.StatusBadRequest, "BadParameter")
	// Signing through the imported certificate's key works.
	d := make([]byte, 32)
	if _, err := f.keysClient(cred).Sign(ctx, "from-pfx", "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Value: d}, nil); err != nil {
		t.Fatal(err)
	}
}
