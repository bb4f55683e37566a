package identity

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword(rand.Reader, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Errorf("hash %q is not a PHC argon2id string", h)
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horse ": false} {
		ok, err := CheckPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=999999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=8,t=1,p=1$!!$AA"} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword accepted malformed hash %q", bad)
		}
	}
}

func TestClientSecretIsHashedAndMatches(t *testing.T) {
	now := time.Now()
	secret, cred, err := NewClientSecret(rand.Reader, "k", "d", now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 40 || cred.Hint != secret[:3] {
		t.Errorf("secret %d chars, hint %q", len(secret), cred.Hint)
	}
	if strings.Contains(string(cred.Hash), secret) || !cred.Matches(secret) || cred.Matches(secret[:39]) {
		t.Error("secret hash does not behave")
	}
}

func TestDecodeThumbprintAcceptsBothBase64Forms(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0x01, 0x02, 0x03}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		got, err := decodeThumbprint(enc.EncodeToString(raw))
		if err != nil || string(got) != string(raw) {
			t.Errorf("%v: %x %v", enc, got, err)
		}
	}
}

// TestClientSecretsNeverStartLikeAnOption: az (argparse) reads a secret
// passed as "-p -abc" as an option; a generated secret starts with a letter.
func TestClientSecretsNeverStartLikeAnOption(t *testing.T) {
	for i := range 2000 {
		s, _, err := NewClientSecret(rand.Reader, "k", "n", time.Now(), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if c := s[0]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			t.Fatalf("secret %d starts with %q", i, c)
		}
	}
}
