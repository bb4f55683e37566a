package vault

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

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
	if err := checkPFXWork(raw); err != nil {
		return nil, nil, nil, "", badParameter("The PKCS #12 file asks for more than %d key derivation iterations (%d at most per derivation); export it with a lower iteration count.", maxPFXTotalIterations, maxPFXIterations)
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
