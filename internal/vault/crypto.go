package vault

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"slices"
)

// Key types and their default operations.
var (
	rsaOps = []string{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}
	ecOps  = []string{"sign", "verify"}
)

var b64url = base64.RawURLEncoding

// isRSA and isEC classify a kty, software or HSM-flavoured.
func isRSA(kty string) bool { return kty == "RSA" || kty == "RSA-HSM" }
func isEC(kty string) bool  { return kty == "EC" || kty == "EC-HSM" }

// curveByName maps a JWK curve name to a curve.
func curveByName(crv string) (elliptic.Curve, bool) {
	switch crv {
	case "P-256":
		return elliptic.P256(), true
	case "P-384":
		return elliptic.P384(), true
	case "P-521":
		return elliptic.P521(), true
	}
	return nil, false
}

// generateKey makes a new private key of a type, size or curve.
func generateKey(rnd io.Reader, kty string, size int, crv string) (crypto.Signer, error) {
	switch {
	case isRSA(kty):
		if size == 0 {
			size = 2048
		}
		if size != 2048 && size != 3072 && size != 4096 {
			return nil, badParameter("Invalid key size %d for an RSA key: use 2048, 3072 or 4096.", size)
		}
		return rsa.GenerateKey(rnd, size)
	case isEC(kty):
		if crv == "" {
			crv = "P-256"
		}
		c, ok := curveByName(crv)
		if !ok {
			return nil, badParameter("The curve %q is not supported: use P-256, P-384 or P-521.", crv)
		}
		return ecdsa.GenerateKey(c, rnd)
	case kty == "":
		return nil, badParameter("The key type (kty) is required.")
	default:
		return nil, badParameter("The key type %q is not supported by this vault: use RSA, RSA-HSM, EC or EC-HSM.", kty)
	}
}

// signHash maps a signature algorithm to its hash and family.
func signHash(alg string) (crypto.Hash, string, bool) {
	switch alg {
	case "RS256":
		return crypto.SHA256, "RS", true
	case "RS384":
		return crypto.SHA384, "RS", true
	case "RS512":
		return crypto.SHA512, "RS", true
	case "PS256":
		return crypto.SHA256, "PS", true
	case "PS384":
		return crypto.SHA384, "PS", true
	case "PS512":
		return crypto.SHA512, "PS", true
	case "ES256":
		return crypto.SHA256, "ES", true
	case "ES384":
		return crypto.SHA384, "ES", true
	case "ES512":
		return crypto.SHA512, "ES", true
	}
	return 0, "", false
}

// checkAlg validates a signature algorithm against a key and a digest.
func checkAlg(alg string, pub crypto.PublicKey, digest []byte) (crypto.Hash, string, error) {
	h, fam, ok := signHash(alg)
	if !ok {
		return 0, "", badParameter("The algorithm %q is not supported: use RS256/384/512, PS256/384/512 or ES256/384/512.", alg)
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if fam == "ES" {
			return 0, "", badParameter("The algorithm %s needs an EC key.", alg)
		}
	case *ecdsa.PublicKey:
		want := map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
		if fam != "ES" || p.Curve.Params().Name != want {
			return 0, "", badParameter("The algorithm %s does not match the key's curve %s.", alg, p.Curve.Params().Name)
		}
	}
	if len(digest) != h.Size() {
		return 0, "", badParameter("The digest has %d bytes; %s needs a %d-byte digest.", len(digest), alg, h.Size())
	}
	return h, fam, nil
}

// sign signs a digest: PKCS #1 v1.5 (the DigestInfo is built here), PSS
// with a salt as long as the hash, or ECDSA as r||s (JWS form).
func sign(rnd io.Reader, key crypto.Signer, alg string, digest []byte) ([]byte, error) {
	h, fam, err := checkAlg(alg, key.Public(), digest)
	if err != nil {
		return nil, err
	}
	switch fam {
	case "RS":
		return key.Sign(rnd, digest, h)
	case "PS":
		return key.Sign(rnd, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	}
	k := key.(*ecdsa.PrivateKey)
	r, s, err := ecdsa.Sign(rnd, k, digest)
	if err != nil {
		return nil, err
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	return append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...), nil
}

// verify checks a signature made by sign.
func verify(pub crypto.PublicKey, alg string, digest, sig []byte) (bool, error) {
	h, fam, err := checkAlg(alg, pub, digest)
	if err != nil {
		return false, err
	}
	switch fam {
	case "RS":
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), h, digest, sig) == nil, nil
	case "PS":
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil, nil
	}
	p := pub.(*ecdsa.PublicKey)
	size := (p.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return false, nil
	}
	r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(p, digest, r, s), nil
}

// encrypt and decrypt implement RSA-OAEP (SHA-1), RSA-OAEP-256 and
// RSA1_5; wrapKey and unwrapKey are the same operations.
func encrypt(rnd io.Reader, pub crypto.PublicKey, alg string, plain []byte) ([]byte, error) {
	p, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, badParameter("The algorithm %q needs an RSA key.", alg)
	}
	switch alg {
	case "RSA-OAEP":
		return rsa.EncryptOAEP(sha1.New(), rnd, p, plain, nil)
	case "RSA-OAEP-256":
		return rsa.EncryptOAEP(sha256.New(), rnd, p, plain, nil)
	case "RSA1_5":
		return rsa.EncryptPKCS1v15(rnd, p, plain)
	}
	return nil, badParameter("The algorithm %q is not supported: use RSA-OAEP, RSA-OAEP-256 or RSA1_5.", alg)
}

func decrypt(key crypto.Signer, alg string, ct []byte) ([]byte, error) {
	k, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, badParameter("The algorithm %q needs an RSA key.", alg)
	}
	var out []byte
	var err error
	switch alg {
	case "RSA-OAEP":
		out, err = rsa.DecryptOAEP(sha1.New(), nil, k, ct, nil)
	case "RSA-OAEP-256":
		out, err = rsa.DecryptOAEP(sha256.New(), nil, k, ct, nil)
	case "RSA1_5":
		out, err = rsa.DecryptPKCS1v15(nil, k, ct)
	default:
		return nil, badParameter("The algorithm %q is not supported: use RSA-OAEP, RSA-OAEP-256 or RSA1_5.", alg)
	}
	if err != nil {
		return nil, badParameter("The ciphertext could not be decrypted with this key and algorithm.")
	}
	return out, nil
}

// marshalPrivate and parsePrivate store private keys as PKCS #8.
func marshalPrivate(k crypto.Signer) ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k) }

func parsePrivate(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("vault: stored key is not a signer")
	}
	return s, nil
}

// ktyOf names the JWK key type of a public key.
func ktyOf(pub crypto.PublicKey) string {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return "RSA"
	}
	return "EC"
}

// defaultOps returns the default operations of a key type.
func defaultOps(kty string) []string {
	if isRSA(kty) {
		return slices.Clone(rsaOps)
	}
	return slices.Clone(ecOps)
}
