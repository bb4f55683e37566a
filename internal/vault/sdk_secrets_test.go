package vault

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

func (f *kvFixture) secretsClient(cred azcore.TokenCredential) *azsecrets.Client {
	f.t.Helper()
	c, err := azsecrets.NewClient(f.vaultURL, cred, &azsecrets.ClientOptions{ClientOptions: f.opts})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// wantResponseError checks an SDK error's status and Key Vault code.
func wantResponseError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a ResponseError %d %s", err, status, code)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("got %d %s, want %d %s", re.StatusCode, re.ErrorCode, status, code)
	}
}

func TestAzsecretsDrivesTheVault(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	c := f.secretsClient(f.cred(f.home))

	set1, err := c.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("first"), ContentType: to.Ptr("text/plain"),
		Tags: map[string]*string{"env": to.Ptr("test")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := set1.ID.Name(); got != "db-password" {
		t.Fatalf("ID.Name() = %q", got)
	}
	set2, err := c.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("second")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := c.GetSecret(ctx, "db-password", "", nil)
	if err != nil || *latest.Value != "second" || *latest.ID != *set2.ID {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	old, err := c.GetSecret(ctx, "db-password", set1.ID.Version(), nil)
	if err != nil || *old.Value != "first" || *old.ContentType != "text/plain" {
		t.Fatalf("version 1 = %+v, %v", old, err)
	}

	upd, err := c.UpdateSecretProperties(ctx, "db-password", set1.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(false)}}, nil)
	if err != nil || *upd.Attributes.Enabled {
		t.Fatalf("update = %+v, %v", upd, err)
	}
	_, err = c.GetSecret(ctx, "db-password", set1.ID.Version(), nil)
	wantResponseError(t, err, http.StatusForbidden, "Forbidden")

	for i := range 30 {
		if _, err := c.SetSecret(ctx, "paged-"+string(rune('a'+i%26))+string(rune('a'+i/26)), azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	names := 0
	for pager := c.NewListSecretPropertiesPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names += len(page.Value)
	}
	if names != 31 {
		t.Fatalf("listed %d secrets, want 31", names)
	}
	versions := 0
	for pager := c.NewListSecretPropertiesVersionsPager("db-password", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		versions += len(page.Value)
	}
	if versions != 2 {
		t.Fatalf("listed %d versions, want 2", versions)
	}

	del, err := c.DeleteSecret(ctx, "db-password", nil)
	if err != nil || del.RecoveryID == nil || del.DeletedDate == nil {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = c.GetSecret(ctx, "db-password", "", nil)
	wantResponseError(t, err, http.StatusNotFound, "SecretNotFound")
	_, err = c.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("again")}, nil)
	wantResponseError(t, err, http.StatusConflict, "Conflict")
	if _, err := c.GetDeletedSecret(ctx, "db-password", nil); err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for pager := c.NewListDeletedSecretPropertiesPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deleted += len(page.Value)
	}
	if deleted != 1 {
		t.Fatalf("listed %d deleted secrets, want 1", deleted)
	}
	if _, err := c.RecoverDeletedSecret(ctx, "db-password", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetSecret(ctx, "db-password", "", nil); err != nil || *got.Value != "second" {
		t.Fatalf("after recover = %+v, %v", got, err)
	}
	if _, err := c.DeleteSecret(ctx, "db-password", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PurgeDeletedSecret(ctx, "db-password", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetDeletedSecret(ctx, "db-password", nil)
	wantResponseError(t, err, http.StatusNotFound, "SecretNotFound")
	if _, err := c.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("reborn")}, nil); err != nil {
		t.Fatalf("set after purge: %v", err)
	}
}
