package vault

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
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
