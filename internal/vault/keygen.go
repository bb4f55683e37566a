package vault

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
)

// generateLike makes a new private key of the same type and size (or
// curve) as pub, for rotation.
func generateLike(s *Service, kty string, pub crypto.PublicKey) (crypto.Signer, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return generateKey(s.rand, kty, p.N.BitLen(), "")
	case *ecdsa.PublicKey:
		return generateKey(s.rand, kty, 0, p.Curve.Params().Name)
	}
	return nil, badParameter("The key type cannot be rotated.")
}
