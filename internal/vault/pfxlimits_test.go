package vault

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net/http"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// TestPFXImportRefusesHostileIterationCounts imports PKCS #12 files whose
// iteration counts were rewritten after encoding (as an attacker would,
// since nothing is authenticated before the key derivations run): each
// one above the limits is a 400 before any derivation, and ordinary
// exports still import.
func TestPFXImportRefusesHostileIterationCounts(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pfx"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	encode := func(enc *pkcs12.Encoder) []byte {
		pfx, err := enc.Encode(key, cert, nil, "pw")
		if err != nil {
			t.Fatal(err)
		}
		return pfx
	}
	// 65,536 iterations encode as INTEGER 02 03 01 00 00; patching those
	// bytes sets every count of the file at once.
	base := encode(pkcs12.Modern.WithIterations(1 << 16))
	count := bytes.Count(base, []byte{2, 3, 1, 0, 0})
	if count < 3 {
		t.Fatalf("found %d iteration counts in the PFX, want the MAC's and the encryptions'", count)
	}
	patched := func(enc []byte) []byte {
		return bytes.ReplaceAll(base, []byte{2, 3, 1, 0, 0}, append([]byte{2, 3}, enc...))
	}
	cases := []struct {
		name string
		pfx  []byte
		ok   bool
	}{
		{"modern export (PBES2, 2048 iterations)", encode(pkcs12.Modern), true},
		{"legacy export (3DES)", encode(pkcs12.LegacyDES), true},
		{"65,536 iterations each", base, true},
		{"8,388,607 iterations each", patched([]byte{0x7f, 0xff, 0xff}), false},
		{"600,001 iterations each", patched([]byte{0x09, 0x27, 0xc1}), false},
		{"458,752 each, over the total", patched([]byte{0x07, 0x00, 0x00}), false},
		{"a negative count", patched([]byte{0xff, 0xff, 0xff}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, _, _, _, err := decodeImport(base64.StdEncoding.EncodeToString(c.pfx), "pw")
			if c.ok {
				if err != nil {
					t.Fatalf("import refused: %v", err)
				}
				return
			}
			e, _ := errorStatus(err)
			if err == nil || e.Status != http.StatusBadRequest {
				t.Fatalf("import = %v, want a 400", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Logf("refusal took %v; the counts must be read before any derivation", d)
			}
		})
	}
}

// toBER rewrites DER in the BER forms Windows uses: every constructed
// value with an indefinite length, and every OCTET STRING that holds DER
// as a constructed string of two chunks.
func toBER(t *testing.T, der []byte) []byte {
	t.Helper()
	var out []byte
	for len(der) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(der, &v)
		if err != nil {
			t.Fatal(err)
		}
		tagLen := len(v.FullBytes) - len(v.Bytes)
		header := v.FullBytes[:tagLen]
		tag := header[:1]
		switch {
		case v.IsCompound:
			out = append(out, tag[0])
			out = append(out, 0x80)
			out = append(out, toBER(t, v.Bytes)...)
			out = append(out, 0, 0)
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString && len(v.Bytes) > 4 && validDER(v.Bytes):
			inner := toBER(t, v.Bytes)
			half := len(inner) / 2
			out = append(out, 0x24, 0x80)
			for _, chunk := range [][]byte{inner[:half], inner[half:]} {
				out = append(out, 0x04)
				out = append(out, derLength(len(chunk))...)
				out = append(out, chunk...)
			}
			out = append(out, 0, 0)
		default:
			out = append(out, v.FullBytes...)
		}
		der = rest
	}
	return out
}

func validDER(b []byte) bool {
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return false
		}
		b = rest
	}
	return true
}

// TestPFXLimitsSeeThroughBER checks that the iteration counts of a PFX in
// BER (indefinite lengths, chunked OCTET STRINGs) are read like DER's.
func TestPFXLimitsSeeThroughBER(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ber"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	pfx, err := pkcs12.LegacyDES.WithIterations(1<<16).Encode(key, cert, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	ber := toBER(t, pfx)
	if bytes.Equal(ber, pfx) {
		t.Fatal("the BER form is the DER form")
	}
	// go-pkcs12 v0.7 reads DER only; the check reads BER too, so a decoder
	// that learns BER cannot open a way around it.
	if err := checkPFXWork(ber); err != nil {
		t.Fatalf("BER PFX within the limits refused: %v", err)
	}
	hostile := bytes.ReplaceAll(ber, []byte{2, 3, 1, 0, 0}, []byte{2, 3, 0x7f, 0xff, 0xff})
	if err := checkPFXWork(hostile); err == nil {
		t.Fatal("BER PFX with 8M iterations accepted")
	}
}
