package vault

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

func (f *kvFixture) keysClient(cred azcore.TokenCredential) *azkeys.Client {
	f.t.Helper()
	c, err := azkeys.NewClient(f.vaultURL, cred, &azkeys.ClientOptions{ClientOptions: f.opts})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// jwkPublic rebuilds a public key from the SDK's JWK.
func jwkPublic(t *testing.T, k *azkeys.JSONWebKey) crypto.PublicKey {
	t.Helper()
	switch *k.Kty {
	case azkeys.KeyTypeRSA, azkeys.KeyTypeRSAHSM:
		return &rsa.PublicKey{N: new(big.Int).SetBytes(k.N), E: int(new(big.Int).SetBytes(k.E).Int64())}
	default:
		curve := map[azkeys.CurveName]elliptic.Curve{azkeys.CurveNameP256: elliptic.P256(), azkeys.CurveNameP384: elliptic.P384(), azkeys.CurveNameP521: elliptic.P521()}[*k.Crv]
		return &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(k.X), Y: new(big.Int).SetBytes(k.Y)}
	}
}

func digestFor(alg azkeys.SignatureAlgorithm, msg []byte) (crypto.Hash, []byte) {
	switch alg {
	case azkeys.SignatureAlgorithmRS384, azkeys.SignatureAlgorithmPS384, azkeys.SignatureAlgorithmES384:
		d := sha512.Sum384(msg)
		return crypto.SHA384, d[:]
	case azkeys.SignatureAlgorithmRS512, azkeys.SignatureAlgorithmPS512, azkeys.SignatureAlgorithmES512:
		d := sha512.Sum512(msg)
		return crypto.SHA512, d[:]
	}
	d := sha256.Sum256(msg)
	return crypto.SHA256, d[:]
}

// verifyLocally checks a vault signature with Go's crypto, so the vault
// is not only consistent with itself.
func verifyLocally(t *testing.T, pub crypto.PublicKey, alg azkeys.SignatureAlgorithm, h crypto.Hash, digest, sig []byte) {
	t.Helper()
	var err error
	switch alg {
	case azkeys.SignatureAlgorithmRS256, azkeys.SignatureAlgorithmRS384, azkeys.SignatureAlgorithmRS512:
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), h, digest, sig)
	case azkeys.SignatureAlgorithmPS256, azkeys.SignatureAlgorithmPS384, azkeys.SignatureAlgorithmPS512:
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		p := pub.(*ecdsa.PublicKey)
		n := len(sig) / 2
		if !ecdsa.Verify(p, digest, new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])) {
			t.Fatalf("%s: ECDSA r||s signature does not verify locally", alg)
		}
	}
	if err != nil {
		t.Fatalf("%s: local verify: %v", alg, err)
	}
}

func TestAzkeysSignVerifyEveryKeyTypeAndAlgorithm(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	c := f.keysClient(f.cred(f.home))
	rs := []azkeys.SignatureAlgorithm{azkeys.SignatureAlgorithmRS256, azkeys.SignatureAlgorithmRS384, azkeys.SignatureAlgorithmRS512,
		azkeys.SignatureAlgorithmPS256, azkeys.SignatureAlgorithmPS384, azkeys.SignatureAlgorithmPS512}
	cases := []struct {
		name string
		kty  azkeys.KeyType
		size int32
		crv  azkeys.CurveName
		algs []azkeys.SignatureAlgorithm
	}{
		{"rsa-2048", azkeys.KeyTypeRSA, 2048, "", rs},
		{"rsa-3072", azkeys.KeyTypeRSA, 3072, "", rs[:1]},
		{"rsa-4096-hsm", azkeys.KeyTypeRSAHSM, 4096, "", rs[3:4]},
		{"ec-p256", azkeys.KeyTypeEC, 0, azkeys.CurveNameP256, []azkeys.SignatureAlgorithm{azkeys.SignatureAlgorithmES256}},
		{"ec-p384", azkeys.KeyTypeEC, 0, azkeys.CurveNameP384, []azkeys.SignatureAlgorithm{azkeys.SignatureAlgorithmES384}},
		{"ec-p521", azkeys.KeyTypeECHSM, 0, azkeys.CurveNameP521, []azkeys.SignatureAlgorithm{azkeys.SignatureAlgorithmES512}},
	}
	if testing.Short() {
		cases = append(cases[:2], cases[3:]...)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := azkeys.CreateKeyParameters{Kty: to.Ptr(tc.kty)}
			if tc.size != 0 {
				p.KeySize = to.Ptr(tc.size)
			}
			if tc.crv != "" {
				p.Curve = to.Ptr(tc.crv)
			}
			k, err := c.CreateKey(ctx, tc.name, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if k.Key.D != nil || k.Key.P != nil {
				t.Fatal("private key material left the vault")
			}
			pub := jwkPublic(t, k.Key)
			for _, alg := range tc.algs {
				h, digest := digestFor(alg, []byte("message for "+string(alg)))
				sig, err := c.Sign(ctx, tc.name, k.Key.KID.Version(), azkeys.SignParameters{Algorithm: to.Ptr(alg), Value: digest}, nil)
				if err != nil {
					t.Fatalf("%s: %v", alg, err)
				}
				verifyLocally(t, pub, alg, h, digest, sig.Result)
				v, err := c.Verify(ctx, tc.name, "", azkeys.VerifyParameters{Algorithm: to.Ptr(alg), Digest: digest, Signature: sig.Result}, nil)
				if err != nil || !*v.Value {
					t.Fatalf("%s: verify = %v, %v", alg, v.Value, err)
				}
				sig.Result[0] ^= 0xff
				v, err = c.Verify(ctx, tc.name, "", azkeys.VerifyParameters{Algorithm: to.Ptr(alg), Digest: digest, Signature: sig.Result}, nil)
				if err != nil || *v.Value {
					t.Fatalf("%s: tampered signature verified: %v, %v", alg, v.Value, err)
				}
			}
		})
	}
	// A digest of the wrong size is a 400, not a 500.
	_, err := c.Sign(ctx, "rsa-2048", "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Value: []byte("short")}, nil)
	wantResponseError(t, err, http.StatusBadRequest, "BadParameter")
	_, err = c.Sign(ctx, "ec-p256", "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Value: make([]byte, 32)}, nil)
	wantResponseError(t, err, http.StatusBadRequest, "BadParameter")
}

func TestAzkeysEncryptWrapRotateImport(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	c := f.keysClient(f.cred(f.home))
	k, err := c.CreateKey(ctx, "enc", azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSA), KeySize: to.Ptr(int32(2048))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []azkeys.EncryptionAlgorithm{azkeys.EncryptionAlgorithmRSAOAEP, azkeys.EncryptionAlgorithmRSAOAEP256} {
		enc, err := c.Encrypt(ctx, "enc", "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg), Value: []byte("plain " + string(alg))}, nil)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := c.Decrypt(ctx, "enc", enc.KID.Version(), azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg), Value: enc.Result}, nil)
		if err != nil || string(dec.Result) != "plain "+string(alg) {
			t.Fatalf("%s: decrypt = %q, %v", alg, dec.Result, err)
		}
		wrapped, err := c.WrapKey(ctx, "enc", "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg), Value: make([]byte, 32)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		un, err := c.UnwrapKey(ctx, "enc", "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg), Value: wrapped.Result}, nil)
		if err != nil || len(un.Result) != 32 {
			t.Fatalf("%s: unwrap = %d bytes, %v", alg, len(un.Result), err)
		}
	}
	_, err = c.Decrypt(ctx, "enc", "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP), Value: []byte("garbage")}, nil)
	wantResponseError(t, err, http.StatusBadRequest, "BadParameter")

	rot, err := c.RotateKey(ctx, "enc", nil)
	if err != nil || rot.Key.KID.Version() == k.Key.KID.Version() {
		t.Fatalf("rotate = %v, %v", rot.Key.KID, err)
	}
	pol, err := c.GetKeyRotationPolicy(ctx, "enc", nil)
	if err != nil || len(pol.LifetimeActions) != 1 || *pol.LifetimeActions[0].Action.Type != azkeys.KeyRotationPolicyActionNotify {
		t.Fatalf("default policy = %+v, %v", pol, err)
	}
	_, err = c.UpdateKeyRotationPolicy(ctx, "enc", azkeys.KeyRotationPolicy{
		LifetimeActions: []*azkeys.LifetimeAction{{Action: &azkeys.LifetimeActionType{Type: to.Ptr(azkeys.KeyRotationPolicyActionRotate)},
			Trigger: &azkeys.LifetimeActionTrigger{TimeAfterCreate: to.Ptr("P90D")}}},
		Attributes: &azkeys.KeyRotationPolicyAttributes{ExpiryTime: to.Ptr("P2Y")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pol, err = c.GetKeyRotationPolicy(ctx, "enc", nil)
	if err != nil || *pol.LifetimeActions[0].Trigger.TimeAfterCreate != "P90D" || *pol.Attributes.ExpiryTime != "P2Y" {
		t.Fatalf("policy after update = %+v, %v", pol, err)
	}
	n := 0
	for pager := c.NewListKeyPropertiesVersionsPager("enc", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n != 2 {
		t.Fatalf("%d versions, want 2", n)
	}

	// Import an EC key and sign with it; the vault's signature verifies
	// with the caller's own public key.
	own, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	size := 32
	imp, err := c.ImportKey(ctx, "imported", azkeys.ImportKeyParameters{Key: &azkeys.JSONWebKey{Kty: to.Ptr(azkeys.KeyTypeEC), Crv: to.Ptr(azkeys.CurveNameP256),
		X: own.X.FillBytes(make([]byte, size)), Y: own.Y.FillBytes(make([]byte, size)), D: own.D.FillBytes(make([]byte, size)),
		KeyOps: []*azkeys.KeyOperation{to.Ptr(azkeys.KeyOperationSign), to.Ptr(azkeys.KeyOperationVerify)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, digest := digestFor(azkeys.SignatureAlgorithmES256, []byte("imported"))
	sig, err := c.Sign(ctx, "imported", imp.Key.KID.Version(), azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmES256), Value: digest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	verifyLocally(t, &own.PublicKey, azkeys.SignatureAlgorithmES256, h, digest, sig.Result)
	_, err = c.Encrypt(ctx, "imported", "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP), Value: []byte("x")}, nil)
	wantResponseError(t, err, http.StatusForbidden, "Forbidden")

	if _, err := c.DeleteKey(ctx, "enc", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateKey(ctx, "enc", azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeEC)}, nil)
	wantResponseError(t, err, http.StatusConflict, "Conflict")
	if _, err := c.RecoverDeletedKey(ctx, "enc", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKey(ctx, "enc", "", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetKey(ctx, "missing", "", nil)
	wantResponseError(t, err, http.StatusNotFound, "KeyNotFound")
}
