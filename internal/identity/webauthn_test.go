package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/pquerna/otp/totp"

	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/store"
)

// withSecurityKey gives the user a registered security key (and recovery
// codes) as the only second factor, as a registration leaves it.
func withSecurityKey(t *testing.T, svc *Service, tenantID string, u User) []string {
	t.Helper()
	codes, err := svc.storeNewKey(context.Background(), tenantID, u.ID, webauthn.Credential{ID: []byte{1, 2, 3, 4}, PublicKey: []byte{5}}, false)
	if err != nil || len(codes) == 0 {
		t.Fatalf("storing the key: %v (%d recovery codes)", err, len(codes))
	}
	return codes
}

func TestSecurityKeyIsASecondFactor(t *testing.T) {
	f := newMFAFlow(t)
	ctx := context.Background()
	svc, tid, u := f.e.svc, f.e.tenant.ID, f.e.user
	codes := withSecurityKey(t, svc, tid, u)
	if ok, err := svc.MFAEnrolled(ctx, tid, u.ID); err != nil || !ok {
		t.Fatalf("a user with a security key is not enrolled: %v %v", ok, err)
	}
	if n, err := svc.WebAuthnKeyCount(ctx, tid, u.ID); err != nil || n != 1 {
		t.Fatalf("key count %d (%v)", n, err)
	}
	// An administrator's TOTP enrolment would replace the key: refused,
	// as for any existing second factor.
	if _, _, err := svc.EnrollTOTP(ctx, tid, u); err != ErrMFAEnrolled {
		t.Fatalf("TOTP enrolment over a security key: %v", err)
	}
	// No app: six digits are no code; the recovery codes work.
	if err := svc.VerifySecondFactor(ctx, tid, u.ID, "123456"); !ErrBadSecondFactor(err) {
		t.Fatalf("a six-digit code for a user without an app: %v", err)
	}
	if err := svc.VerifySecondFactor(ctx, tid, u.ID, codes[0]); err != nil {
		t.Fatalf("a recovery code: %v", err)
	}

	// The sign-in asks for the second factor after the password. The test
	// server is reached by an IP address, which cannot be a WebAuthn RP
	// ID: the key is not offered, and a security-key answer without a
	// ceremony is refused like a wrong code (and counts toward lockout).
	b := f.e.browser(t)
	p := b.signIn(b.get(f.cfg.AuthCodeURL("s")), userUPN, userPass)
	if !strings.Contains(p.body, `name="otc"`) || strings.Contains(p.body, `id="webauthn"`) {
		t.Fatalf("the second-factor page on an IP authority: %d %.400s", p.status, p.body)
	}
	p = b.submit(p, url.Values{"action": {"webauthn"}, "credential": {`{"id":"AQID","type":"public-key"}`}})
	if !strings.Contains(p.body, "security key was not accepted") {
		t.Fatalf("a forged security-key answer: %d %q %.400s", p.status, p.location, p.body)
	}
	for i := 1; i < lockoutThreshold; i++ {
		p = b.submit(p, url.Values{"action": {"webauthn"}, "credential": {"{}"}})
	}
	if p = b.submit(p, url.Values{"otc": {codes[1]}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("after %d refused keys: %d", lockoutThreshold, p.status)
	}
	// The second factor still works after the lockout's minute.
	f.e.clock.Add(2 * lockoutWindow)
	c := f.idClaims(t, b.submit(p, url.Values{"otc": {codes[1]}}))
	if !slices.Contains(c.AMR, "mfa") || slices.Contains(c.AMR, "fido") {
		t.Fatalf("a recovery code's amr: %v", c.AMR)
	}
}

func TestRelyingPartyIsTheAuthority(t *testing.T) {
	svc := NewService(NewMemRecords(), Options{})
	for host, want := range map[string]string{
		"localhost:8443":      "localhost|https://localhost:8443",
		"Login.Steward.Test":  "login.steward.test|https://login.steward.test",
		"127.0.0.1:8443":      "",
		"[::1]:8443":          "",
		"steward.example.com": "steward.example.com|https://steward.example.com",
		"steward.test:443":    "steward.test|https://steward.test",
	} {
		r := httptest.NewRequest(http.MethodGet, "https://"+host+"/t/oauth2/v2.0/authorize", nil)
		rp, err := svc.relyingParty(r)
		if want == "" {
			if err != errNoWebAuthn {
				t.Errorf("%s: want no relying party, got %v", host, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		if got := rp.Config.RPID + "|" + strings.Join(rp.Config.RPOrigins, ","); got != want {
			t.Errorf("%s: relying party %s, want %s", host, got, want)
		}
	}
	// A configured public URL wins over the request's Host.
	svc = NewService(NewMemRecords(), Options{AuthorityHost: "https://id.steward.test:9443/"})
	rp, err := svc.relyingParty(httptest.NewRequest(http.MethodGet, "https://127.0.0.1/t/oauth2/v2.0/authorize", nil))
	if err != nil || rp.Config.RPID != "id.steward.test" || rp.Config.RPOrigins[0] != "https://id.steward.test:9443" {
		t.Fatalf("relying party of the configured authority: %+v %v", rp, err)
	}
}

func TestWebAuthnScriptServed(t *testing.T) {
	e := newSigninEnv(t)
	// The pages load it relative to the authorization endpoint, which a
	// B2C user flow has under its policy.
	path := "/" + e.tenant.ID + "/oauth2/v2.0/webauthn.js"
	for _, p := range []string{path, "/" + e.tenant.ID + "/B2C_1_signin/oauth2/v2.0/webauthn.js"} {
		if !Matches(p) {
			t.Fatalf("Matches(%q) is false", p)
		}
		resp, err := e.srv.Client().Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(string(body), "navigator.credentials.get") {
			t.Fatalf("the script at %s: %d %v %.100s", p, resp.StatusCode, resp.Header, body)
		}
	}
	resp, err := e.srv.Client().Post(e.srv.URL+path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the script: %d", resp.StatusCode)
	}
}

func TestSecurityKeysAreSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	root, err := seal.KeySource{File: filepath.Join(dir, "root.key")}.Load(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.OpenSealer(ctx, st, root, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sealer.Close)
	svc := NewService(NewMemRecords(), Options{Sealer: sealer})
	tenant, err := svc.CreateTenant(ctx, "contoso", "contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, tenant.ID, "kay@contoso.test", "Kay", "Kay-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	withSecurityKey(t, svc, tenant.ID, u)
	rec, _, err := svc.readMFA(ctx, tenant.ID, u.ID)
	if err != nil || len(rec.Keys) != 0 || len(rec.SealedKeys) == 0 || strings.Contains(string(rec.SealedKeys), "publicKey") {
		t.Fatalf("the stored keys are not sealed: %+v %v", rec, err)
	}
	if n, err := svc.WebAuthnKeyCount(ctx, tenant.ID, u.ID); err != nil || n != 1 {
		t.Fatalf("the sealed keys do not open: %d %v", n, err)
	}
	// Two authenticator apps beside the key, each secret sealed at its
	// own path: a code of either opens.
	var secrets []string
	for _, name := range []string{"Phone", "Tablet"} {
		enr, err := svc.AddAuthenticatorApp(ctx, tenant.ID, u, name)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := totp.GenerateCode(enr.Secret, time.Now())
		if _, err := svc.ConfirmTOTP(ctx, tenant.ID, u.ID, c); err != nil {
			t.Fatalf("confirming %s: %v", name, err)
		}
		secrets = append(secrets, enr.Secret)
	}
	rec, _, err = svc.readMFA(ctx, tenant.ID, u.ID)
	if err != nil || len(rec.Apps) != 2 || len(rec.Apps[0].Secret)+len(rec.Apps[1].Secret) != 0 || len(rec.Apps[1].SealedSecret) == 0 {
		t.Fatalf("the stored apps are not sealed: %+v %v", rec.Apps, err)
	}
	for i, sec := range secrets {
		c, _ := totp.GenerateCode(sec, time.Now().Add(totpPeriod*time.Second))
		if err := svc.VerifySecondFactor(ctx, tenant.ID, u.ID, c); err != nil {
			t.Errorf("app %d's sealed secret: %v", i, err)
		}
	}
}

func TestSecurityKeyAdministration(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.Background()
	svc, tid, u := e.svc, e.tenant.ID, e.user
	codes := withSecurityKey(t, svc, tid, u)
	app, keys, err := svc.SecondFactors(ctx, tid, u.ID)
	if err != nil || app || len(keys) != 1 || keys[0].ID != "AQIDBA" {
		t.Fatalf("second factors: app %v keys %+v (%v)", app, keys, err)
	}
	if err := svc.RemoveSecurityKey(ctx, tid, u.ID, "AQIDBQ"); err != ErrNotFound {
		t.Fatalf("removing an unknown key: %v", err)
	}
	if err := svc.RemoveSecurityKey(ctx, tid, u.ID, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	// The last second factor gone, the recovery codes go with it.
	if ok, err := svc.MFAEnrolled(ctx, tid, u.ID); err != nil || ok {
		t.Fatalf("enrolled after removing the only key: %v %v", ok, err)
	}
	if err := svc.VerifySecondFactor(ctx, tid, u.ID, codes[2]); !ErrBadSecondFactor(err) {
		t.Fatalf("a recovery code after the reset: %v", err)
	}
}

// softKey is a software FIDO2 authenticator (ES256, no attestation) for
// ceremonies without a browser.
type softKey struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	id     []byte
	count  uint32
	origin string
	// flags of an assertion's authenticator data (0: UP and UV).
	flags byte
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// options reads the challenge and RP ID of navigator.credentials options.
func (k *softKey) options(raw string) (challenge, rpID string) {
	k.t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(raw), &o); err != nil || o.PublicKey.Challenge == "" {
		k.t.Fatalf("options %s: %v", raw, err)
	}
	return o.PublicKey.Challenge, o.PublicKey.RPID + o.PublicKey.RP.ID
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(rpID string, flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, attested...)
}

// create answers a registration's options.
func (k *softKey) create(options string) string {
	k.t.Helper()
	challenge, rpID := k.options(options)
	pub, err := k.key.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		k.t.Fatal(err)
	}
	x, y := pub[1:33], pub[33:]
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y}) // EC2, ES256, P-256
	if err != nil {
		k.t.Fatal(err)
	}
	attested := append(make([]byte, 16), byte(len(k.id)>>8), byte(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{},
		"authData": k.authData(rpID, 0x45, attested)}) // UP, UV, AT
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(k.clientData("webauthn.create", challenge)), "attestationObject": b64(att)}})
	return string(b)
}

// get answers an assertion's options, with the sign count it has now.
func (k *softKey) get(options string, userID string) string {
	k.t.Helper()
	challenge, rpID := k.options(options)
	cd := k.clientData("webauthn.get", challenge)
	flags := k.flags
	if flags == 0 {
		flags = 0x05 // UP, UV
	}
	ad := k.authData(rpID, flags, nil)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), h[:]...)) // ES256 signs authData || hash(clientData)
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig),
			"userHandle": b64([]byte(userID))}})
	return string(b)
}

func TestSecurityKeyCeremonies(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.Background()
	svc, u := e.svc, e.user
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &softKey{t: t, key: priv, id: []byte("soft-key-credential-1"), origin: "https://login.steward.test"}
	r := httptest.NewRequest(http.MethodPost, "https://login.steward.test/"+e.tenant.ID+"/oauth2/v2.0/authorize", nil)
	sess, err := svc.startSession(ctx, httptest.NewRecorder(), e.tenant.ID, u.ID, []string{"pwd"})
	if err != nil {
		t.Fatal(err)
	}
	begin := func(register bool) string {
		t.Helper()
		o, err := svc.beginWebAuthn(ctx, r, sess, u, register, false)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	// Registration: the key becomes the second factor, with recovery codes.
	opts := begin(true)
	if _, rpID := k.options(opts); rpID != "login.steward.test" {
		t.Fatalf("registration options name RP %q", rpID)
	}
	codes, err := svc.finishWebAuthn(ctx, r, sess, u, k.create(opts), false)
	if err != nil || len(codes) != recoveryCodeCount {
		t.Fatalf("registration: %d codes, %v", len(codes), err)
	}
	if _, keys, err := svc.SecondFactors(ctx, e.tenant.ID, u.ID); err != nil || len(keys) != 1 || keys[0].ID != b64(k.id) {
		t.Fatalf("keys after registration: %+v %v", keys, err)
	}
	// A second registration (over an existing factor) is refused.
	other := &softKey{t: t, key: priv, id: []byte("soft-key-credential-2"), origin: k.origin}
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, other.create(begin(true)), false); !ErrBadSecondFactor(err) {
		t.Fatalf("a registration over an existing key: %v", err)
	}

	// Assertion: accepted once; the same answer again has no ceremony.
	k.count = 1
	opts = begin(false)
	answer := k.get(opts, u.ID)
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, answer, false); err != nil {
		t.Fatalf("assertion: %v", err)
	}
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, answer, false); !ErrBadSecondFactor(err) {
		t.Fatalf("a replayed assertion: %v", err)
	}
	// A sign count that does not grow is a cloned key: refused.
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, k.get(begin(false), u.ID), false); !ErrBadSecondFactor(err) {
		t.Fatalf("an assertion with a stale sign count: %v", err)
	}
	// Another origin (a phishing site relaying the challenge) is refused.
	k.count = 5
	phish := &softKey{t: t, key: priv, id: k.id, count: 5, origin: "https://login.steward.test.evil.example"}
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, phish.get(begin(false), u.ID), false); !ErrBadSecondFactor(err) {
		t.Fatalf("an assertion from another origin: %v", err)
	}
	// An expired ceremony is refused.
	opts = begin(false)
	e.clock.Add(webauthnCeremonyLifetime + time.Second)
	k.count = 6
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, k.get(opts, u.ID), false); !ErrBadSecondFactor(err) {
		t.Fatalf("an expired ceremony: %v", err)
	}
	// And a fresh one with a growing count works again.
	k.count = 7
	if _, err := svc.finishWebAuthn(ctx, r, sess, u, k.get(begin(false), u.ID), false); err != nil {
		t.Fatalf("assertion after the refusals: %v", err)
	}
}
