package storage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// gcmSealer is an AES-GCM sealer binding each value to its path, as the
// vault's barrier does; the storage package may not import the vault, so
// its tests bring their own.
type gcmSealer struct{ aead cipher.AEAD }

func newGCMSealer(t testing.TB) *gcmSealer {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return &gcmSealer{aead: a}
}

func (s *gcmSealer) Seal(path string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(path)), nil
}

func (s *gcmSealer) Open(_ context.Context, path string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(path))
}

// fixture is a Table service on a store with one account ("acct", shared
// keys allowed, plain HTTP allowed) served by an httptest server.
type fixture struct {
	svc  *Service
	srv  *httptest.Server
	acct Account
	now  time.Time
}

func newFixture(t testing.TB, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	svc, err := New(ctx, st, newGCMSealer(t), Options{Clock: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	if _, err := svc.EnsureAccount(ctx, "acct", Settings{ResourceID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct", AllowSharedKeyAccess: true}); err != nil {
		t.Fatal(err)
	}
	if f.acct, err = svc.Account(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(svc.Handler(HandlerOptions{}))
	t.Cleanup(f.srv.Close)
	return f
}

func sqliteStore(t testing.TB) store.Store { return storetest.SQLite(t) }

// do sends a request signed with SharedKeyLite with key1 and returns the
// response (body read into the returned string).
func (f *fixture) do(t testing.TB, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+"/tables/acct"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-ms-date", f.now.Format(http.TimeFormat))
	req.Header.Set("Accept", "application/json;odata=minimalmetadata")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "SharedKeyLite acct:"+hmacSign(t, f.acct.Keys[0].Value, sharedKeyStringToSign("acct", req, true)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func hmacSign(t testing.TB, key, sts string) string {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, k)
	h.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
