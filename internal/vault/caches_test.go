package vault

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

func TestLocalWritesTakeEffectDespiteCaches(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	digest := b64url.EncodeToString(make([]byte, 32))
	if _, err := f.svc.CreateKey(ctx, f.vault, "k", KeyCreateParams{Kty: "EC"}); err != nil {
		t.Fatal(err)
	}
	sign := func() error {
		_, err := f.svc.Sign(ctx, f.vault, "k", "", KeyOperationParams{Alg: "ES256", Value: digest})
		return err
	}
	if err := sign(); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := f.svc.UpdateKey(ctx, f.vault, "k", "", UpdateParams{Attributes: &Attributes{Enabled: &off}}); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if err := sign(); !errors.As(err, &e) || e.Status != http.StatusForbidden {
		t.Fatalf("sign with a disabled key: %v", err)
	}
	if _, err := f.svc.DeleteKey(ctx, f.vault, "k"); err != nil {
		t.Fatal(err)
	}
	if err := sign(); !errors.As(err, &e) || e.Code != "KeyNotFound" {
		t.Fatalf("sign with a deleted key: %v", err)
	}
	if _, err := f.svc.GetVault(ctx, f.vault.Name); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteVault(ctx, f.vault.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetVault(ctx, f.vault.Name); !errors.Is(err, ErrVaultNotFound) {
		t.Fatalf("deleted vault still served: %v", err)
	}
}
