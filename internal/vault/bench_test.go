package vault

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// The benchmarks compare signing through the vault's API (the unmodified
// azkeys client over loopback TLS: token check, RBAC, store read, unseal,
// sign, JSON) with signing by crypto/rsa and crypto/ecdsa in process.
// docs/benchmarks/vault.md records the figures.

var benchDigest = sha256.Sum256([]byte("benchmark payload"))

func BenchmarkRawSignRSA2048(b *testing.B) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	b.ResetTimer()
	for b.Loop() {
		if _, err := k.Sign(rand.Reader, benchDigest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawSignECDSAP256(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, k, benchDigest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAPISign(b *testing.B, p azkeys.CreateKeyParameters, alg azkeys.SignatureAlgorithm, parallel bool) {
	f := newKVFixture(b)
	ctx := context.Background()
	c := f.keysClient(f.cred(f.home))
	k, err := c.CreateKey(ctx, "bench", p, nil)
	if err != nil {
		b.Fatal(err)
	}
	ver := k.Key.KID.Version()
	params := azkeys.SignParameters{Algorithm: to.Ptr(alg), Value: benchDigest[:]}
	if _, err := c.Sign(ctx, "bench", ver, params, nil); err != nil { // token and connection warm-up
		b.Fatal(err)
	}
	b.ResetTimer()
	if !parallel {
		for b.Loop() {
			if _, err := c.Sign(ctx, "bench", ver, params, nil); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Sign(ctx, "bench", ver, params, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAPISignRSA2048(b *testing.B) {
	benchAPISign(b, azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSA), KeySize: to.Ptr(int32(2048))}, azkeys.SignatureAlgorithmRS256, false)
}

func BenchmarkAPISignRSA2048Parallel(b *testing.B) {
	benchAPISign(b, azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSA), KeySize: to.Ptr(int32(2048))}, azkeys.SignatureAlgorithmRS256, true)
}

func BenchmarkAPISignECDSAP256(b *testing.B) {
	benchAPISign(b, azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeEC), Curve: to.Ptr(azkeys.CurveNameP256)}, azkeys.SignatureAlgorithmES256, false)
}

// BenchmarkServiceSignRSA2048 is the vault's own cost without HTTP: store
// read, unseal, cached key, sign.
func BenchmarkServiceSignRSA2048(b *testing.B) {
	f := newKVFixture(b)
	ctx := context.Background()
	k, err := f.svc.CreateKey(ctx, f.vault, "bench", KeyCreateParams{Kty: "RSA", KeySize: 2048})
	if err != nil {
		b.Fatal(err)
	}
	ver := k.Key.KID[len(k.Key.KID)-32:]
	p := KeyOperationParams{Alg: "RS256", Value: b64url.EncodeToString(benchDigest[:])}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.svc.Sign(ctx, f.vault, "bench", ver, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAPISecretGet(b *testing.B) {
	f := newKVFixture(b)
	ctx := context.Background()
	c := f.secretsClient(f.cred(f.home))
	if _, err := c.SetSecret(ctx, "bench", azsecrets.SetSecretParameters{Value: to.Ptr("value")}, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := c.GetSecret(ctx, "bench", "", nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.GetSecret(ctx, "bench", "", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPIVersusRawRSA2048 alternates one raw crypto/rsa signature and
// one signature through the API, with the same kind of key, and reports
// both times and the API's throughput as a percentage of raw (mean and
// fastest-of-each). Alternating
// op by op cancels the load drift of a shared machine, which separate
// benchmarks do not.
func BenchmarkAPIVersusRawRSA2048(b *testing.B) {
	f := newKVFixture(b)
	ctx := context.Background()
	c := f.keysClient(f.cred(f.home))
	k, err := c.CreateKey(ctx, "bench", azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSA), KeySize: to.Ptr(int32(2048))}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ver := k.Key.KID.Version()
	params := azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Value: benchDigest[:]}
	if _, err := c.Sign(ctx, "bench", ver, params, nil); err != nil {
		b.Fatal(err)
	}
	raw, _ := rsa.GenerateKey(rand.Reader, 2048)
	var rawNS, apiNS int64
	rawMin, apiMin := int64(1<<62), int64(1<<62)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := raw.Sign(rand.Reader, benchDigest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := c.Sign(ctx, "bench", ver, params, nil); err != nil {
			b.Fatal(err)
		}
		r, a := int64(t1.Sub(t0)), int64(time.Since(t1))
		rawNS, apiNS = rawNS+r, apiNS+a
		rawMin, apiMin = min(rawMin, r), min(apiMin, a)
	}
	b.ReportMetric(float64(rawNS)/float64(b.N), "raw-ns/sign")
	b.ReportMetric(float64(apiNS)/float64(b.N), "api-ns/sign")
	b.ReportMetric(100*float64(rawNS)/float64(apiNS), "api-%-of-raw")
	// The fastest of each is what an idle machine does; on a shared one it
	// is the figure least disturbed by other load.
	b.ReportMetric(100*float64(rawMin)/float64(apiMin), "best-api-%-of-raw")
}

// benchHandlerSecretGet serves GET secret through the handler in process
// (no TLS, no client), with or without an Auditor, to measure what the
// audit event adds to a request.
func benchHandlerSecretGet(b *testing.B, audited bool) {
	f := newKVFixture(b)
	ctx := context.Background()
	if _, err := f.svc.SetSecret(ctx, f.vault, "bench", SecretSetParams{Value: to.Ptr("value")}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	if audited {
		f.kv.opts.Auditor = AuditorFunc(func(AuditEvent) { n.Add(1) })
	}
	tok := f.token(f.home)
	serve := func() {
		req := httptest.NewRequest("GET", f.vaultURL+"/secrets/bench?api-version=7.5", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", "azsdk-go-azsecrets/v1.4.0 (go1.24; linux)")
		w := httptest.NewRecorder()
		f.kv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	serve()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
	if audited && n.Load() < int64(b.N) {
		b.Fatalf("%d events for %d requests", n.Load(), b.N)
	}
}

func BenchmarkHandlerSecretGet(b *testing.B)        { benchHandlerSecretGet(b, false) }
func BenchmarkHandlerSecretGetAudited(b *testing.B) { benchHandlerSecretGet(b, true) }
