package vault

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
)

// publicJWK renders a public key as Key Vault's JWK.
func publicJWK(pub crypto.PublicKey, kid, kty string, ops []string) (JSONWebKey, error) {
	j := JSONWebKey{KID: kid, Kty: kty, KeyOps: ops}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		j.N = b64url.EncodeToString(p.N.Bytes())
		j.E = b64url.EncodeToString(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		j.Crv = p.Curve.Params().Name
		size := (p.Curve.Params().BitSize + 7) / 8
		x, y := p.X.FillBytes(make([]byte, size)), p.Y.FillBytes(make([]byte, size))
		j.X, j.Y = b64url.EncodeToString(x), b64url.EncodeToString(y)
	default:
		return j, fmt.Errorf("vault: unsupported public key %T", pub)
	}
	return j, nil
}

// privateFromJWK reads an imported JWK's private key (or, when it has no
// private members, its public key).
func privateFromJWK(j JSONWebKey) (crypto.Signer, crypto.PublicKey, error) {
	num := func(field, s string) (*big.Int, error) {
		b, err := decodeB64(s)
		if err != nil || len(b) == 0 {
			return nil, badParameter("The JWK member %q is missing or not base64url.", field)
		}
		return new(big.Int).SetBytes(b), nil
	}
	switch {
	case isRSA(j.Kty):
		n, err := num("n", j.N)
		if err != nil {
			return nil, nil, err
		}
		e, err := num("e", j.E)
		if err != nil {
			return nil, nil, err
		}
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, nil, badParameter("The JWK exponent is too large.")
		}
		pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
		if j.D == "" {
			return nil, pub, nil
		}
		d, err := num("d", j.D)
		if err != nil {
			return nil, nil, err
		}
		p, err := num("p", j.P)
		if err != nil {
			return nil, nil, err
		}
		q, err := num("q", j.Q)
		if err != nil {
			return nil, nil, err
		}
		k := &rsa.PrivateKey{PublicKey: *pub, D: d, Primes: []*big.Int{p, q}}
		if err := k.Validate(); err != nil {
			return nil, nil, badParameter("The RSA key is not valid: %v", err)
		}
		k.Precompute()
		return k, pub, nil
	case isEC(j.Kty):
		c, ok := curveByName(j.Crv)
		if !ok {
			return nil, nil, badParameter("The curve %q is not supported: use P-256, P-384 or P-521.", j.Crv)
		}
		x, err := num("x", j.X)
		if err != nil {
			return nil, nil, err
		}
		y, err := num("y", j.Y)
		if err != nil {
			return nil, nil, err
		}
		size := (c.Params().BitSize + 7) / 8
		raw := append([]byte{4}, append(x.FillBytes(make([]byte, size)), y.FillBytes(make([]byte, size))...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, raw)
		if err != nil {
			return nil, nil, badParameter("The EC public key is not on the curve.")
		}
		if j.D == "" {
			return nil, pub, nil
		}
		d, err := decodeB64(j.D)
		if err != nil {
			return nil, nil, badParameter("The JWK member \"d\" is not base64url.")
		}
		k, err := ecdsa.ParseRawPrivateKey(c, leftPad(d, size))
		if err != nil || !k.PublicKey.Equal(pub) {
			return nil, nil, badParameter("The EC private key does not match its public key.")
		}
		return k, pub, nil
	default:
		return nil, nil, badParameter("The key type %q is not supported by this vault: use RSA, RSA-HSM, EC or EC-HSM.", j.Kty)
	}
}

func leftPad(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(make([]byte, n-len(b)), b...)
}

// decodeB64 accepts base64url with or without padding, and standard
// base64, since clients differ.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}
