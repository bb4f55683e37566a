package vault

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Content types of a certificate's backing secret.
const (
	ContentTypePKCS12 = "application/x-pkcs12"
	ContentTypePEM    = "application/x-pem-file"
)

// maxDN caps a subject string.
const maxDN = 4096

// parseDN reads an X.500 subject such as "CN=app, O=Contoso, C=US". Values
// may be double-quoted to hold commas.
func parseDN(s string) (pkix.Name, error) {
	var n pkix.Name
	if len(s) > maxDN {
		return n, badParameter("The subject is longer than %d characters.", maxDN)
	}
	for _, part := range splitDN(s) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return n, badParameter("The subject %q is not a distinguished name (want CN=...).", s)
		}
		k, v = strings.ToUpper(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`)
		switch k {
		case "CN":
			n.CommonName = v
		case "O":
			n.Organization = append(n.Organization, v)
		case "OU":
			n.OrganizationalUnit = append(n.OrganizationalUnit, v)
		case "C":
			n.Country = append(n.Country, v)
		case "L":
			n.Locality = append(n.Locality, v)
		case "S", "ST":
			n.Province = append(n.Province, v)
		case "STREET":
			n.StreetAddress = append(n.StreetAddress, v)
		case "E", "EMAILADDRESS":
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: v})
		default:
			return n, badParameter("The subject attribute %q is not supported.", k)
		}
	}
	return n, nil
}

func splitDN(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ',' || r == ';') && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

var keyUsageBits = map[string]x509.KeyUsage{
	"digitalSignature": x509.KeyUsageDigitalSignature,
	"nonRepudiation":   x509.KeyUsageContentCommitment,
	"keyEncipherment":  x509.KeyUsageKeyEncipherment,
	"dataEncipherment": x509.KeyUsageDataEncipherment,
	"keyAgreement":     x509.KeyUsageKeyAgreement,
	"keyCertSign":      x509.KeyUsageCertSign,
	"cRLSign":          x509.KeyUsageCRLSign,
	"encipherOnly":     x509.KeyUsageEncipherOnly,
	"decipherOnly":     x509.KeyUsageDecipherOnly,
}

// opsForUsage maps X.509 key usages to key operations, as Key Vault does.
func opsForUsage(usages []string, kty string) []string {
	set := map[string]bool{}
	for _, u := range usages {
		switch u {
		case "digitalSignature", "nonRepudiation", "keyCertSign", "cRLSign":
			set["sign"], set["verify"] = true, true
		case "keyEncipherment":
			set["wrapKey"], set["unwrapKey"] = true, true
		case "dataEncipherment":
			set["encrypt"], set["decrypt"] = true, true
		}
	}
	var out []string
	for _, op := range rsaOps {
		if set[op] && (isRSA(kty) || op == "sign" || op == "verify") {
			out = append(out, op)
		}
	}
	return out
}

// certTemplate builds the certificate (or CSR) contents from a policy.
func certTemplate(p *CertificatePolicy, now time.Time, rnd io.Reader) (*x509.Certificate, error) {
	x := p.X509Props
	subject, err := parseDN(x.Subject)
	if err != nil {
		return nil, err
	}
	serial, err := randSerial(rnd)
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber: serial, Subject: subject,
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              now.AddDate(0, x.ValidityMonths, 0).UTC(),
		BasicConstraintsValid: true,
	}
	if x.SANs != nil {
		t.DNSNames, t.EmailAddresses = x.SANs.DNSNames, x.SANs.Emails
		for _, upn := range x.SANs.UPNs {
			t.EmailAddresses = append(t.EmailAddresses, upn)
		}
	}
	for _, u := range x.KeyUsage {
		bit, ok := keyUsageBits[u]
		if !ok {
			return nil, badParameter("The key usage %q is not valid.", u)
		}
		t.KeyUsage |= bit
	}
	for _, e := range x.Ekus {
		oid, err := parseOID(e)
		if err != nil {
			return nil, err
		}
		t.UnknownExtKeyUsage = append(t.UnknownExtKeyUsage, oid)
	}
	return t, nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, badParameter("The extended key usage %q is not an OID.", s)
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, badParameter("The extended key usage %q is not an OID.", s)
	}
	return oid, nil
}

func randSerial(rnd io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b), nil
}

// selfSign issues a self-signed certificate from a policy.
func selfSign(p *CertificatePolicy, key crypto.Signer, now time.Time, rnd io.Reader) ([]byte, error) {
	t, err := certTemplate(p, now, rnd)
	if err != nil {
		return nil, err
	}
	return x509.CreateCertificate(rnd, t, t, key.Public(), key)
}

// makeCSR builds a certificate signing request from a policy.
func makeCSR(p *CertificatePolicy, key crypto.Signer, now time.Time, rnd io.Reader) ([]byte, error) {
	t, err := certTemplate(p, now, rnd)
	if err != nil {
		return nil, err
	}
	return x509.CreateCertificateRequest(rnd, &x509.CertificateRequest{Subject: t.Subject, DNSNames: t.DNSNames, EmailAddresses: t.EmailAddresses}, key)
}

// x5t is the base64url SHA-1 thumbprint of a DER certificate.
func x5t(der []byte) string {
	s := sha1.Sum(der)
	return b64url.EncodeToString(s[:])
}

// secretValue renders a certificate's backing secret: PFX (base64, blank
// password) or PEM (PKCS #8 key, then the certificates). Without the
// private key (a non-exportable key) only the certificates are in it.
func secretValue(contentType string, key crypto.Signer, cert []byte, chain [][]byte) (string, error) {
	if contentType == ContentTypePEM {
		var b strings.Builder
		if key != nil {
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return "", err
			}
			b.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			clear(der)
		}
		for _, c := range append([][]byte{cert}, chain...) {
			b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c}))
		}
		return b.String(), nil
	}
	leaf, err := x509.ParseCertificate(cert)
	if err != nil {
		return "", err
	}
	var cas []*x509.Certificate
	for _, c := range chain {
		ca, err := x509.ParseCertificate(c)
		if err != nil {
			return "", err
		}
		cas = append(cas, ca)
	}
	var pfx []byte
	if key != nil {
		pfx, err = pkcs12.LegacyDES.Encode(key, leaf, cas, "")
	} else {
		pfx, err = pkcs12.LegacyDES.EncodeTrustStore(append([]*x509.Certificate{leaf}, cas...), "")
	}
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(pfx), nil
}

// decodeImport reads an imported certificate: PEM text (PKCS #8 or
// PKCS #1/SEC 1 key plus certificates) or base64 PFX with its password.
// It returns the key, the leaf's DER, the rest of the chain, and the
// content type the input had.
func decodeImport(value, password string) (key crypto.Signer, leaf []byte, chain [][]byte, ct string, err error) {
	// The one recover point of certificate parsing: a panic in a decoder
	// on hostile input becomes a 400.
	defer func() {
		if r := recover(); r != nil {
			key, leaf, chain, ct, err = nil, nil, nil, "", badParameter("The certificate could not be parsed.")
		}
	}()
	return decodeImportUnguarded(value, password)
}

func decodeImportUnguarded(value, password string) (crypto.Signer, []byte, [][]byte, string, error) {
	if strings.Contains(value, "-----BEGIN") {
		key, certs, err := decodePEM([]byte(value))
		if err != nil {
			return nil, nil, nil, "", err
		}
		return key, certs[0], certs[1:], ContentTypePEM, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		if raw, err = decodeB64(strings.TrimSpace(value)); err != nil {
			return nil, nil, nil, "", badParameter("The certificate value is neither PEM nor base64 PKCS #12.")
		}
	}
	if pemText, err := base64.StdEncoding.DecodeString(value); err == nil && strings.Contains(string(pemText), "-----BEGIN") {
		return decodeImportUnguarded(string(pemText), password)
	}
	k, leaf, cas, err := pkcs12.DecodeChain(raw, password)
	if err != nil {
		return nil, nil, nil, "", badParameter("The PKCS #12 certificate could not be read: %v", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok || !publicMatches(signer.Public(), leaf) {
		return nil, nil, nil, "", badParameter("The private key in the PKCS #12 file does not match its certificate.")
	}
	var chain [][]byte
	for _, c := range cas {
		chain = append(chain, c.Raw)
	}
	return signer, leaf.Raw, chain, ContentTypePKCS12, nil
}

func decodePEM(data []byte) (crypto.Signer, [][]byte, error) {
	var key crypto.Signer
	var certs [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			certs = append(certs, b.Bytes)
		case "PRIVATE KEY":
			k, err := parsePrivate(b.Bytes)
			if err != nil {
				return nil, nil, badParameter("The PEM private key is not valid PKCS #8.")
			}
			key = k
		case "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return nil, nil, badParameter("The PEM private key must be PKCS #8 (BEGIN PRIVATE KEY), as Key Vault requires.")
		}
	}
	if key == nil || len(certs) == 0 {
		return nil, nil, badParameter("A PEM import must contain the private key and at least one certificate.")
	}
	leaf, err := x509.ParseCertificate(certs[0])
	if err != nil {
		return nil, nil, badParameter("The PEM certificate is not valid.")
	}
	if !publicMatches(key.Public(), leaf) {
		return nil, nil, badParameter("The private key does not match the first certificate.")
	}
	return key, certs, nil
}

func publicMatches(pub crypto.PublicKey, cert *x509.Certificate) bool {
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(cert.PublicKey)
}

var errNoCert = errors.New("vault: certificate version has no certificate")
