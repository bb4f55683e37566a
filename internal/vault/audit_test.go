package vault

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/identity"
)

// auditLog collects a handler's audit events.
type auditLog struct {
	mu     sync.Mutex
	events []AuditEvent
}

func (l *auditLog) Record(ev AuditEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *auditLog) take() []AuditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// TestAuditEventsNameEveryOperationAndHoldNoValues drives secrets and
// certificates with the SDKs and raw requests, and checks the audit event
// of each: Key Vault's operation name, the status, the caller's claims
// (none without a token), the object's URI and Key Vault's query
// parameters only; a request to a vault that does not exist has none; no
// event holds a value, a body or a token.
func TestAuditEventsNameEveryOperationAndHoldNoValues(t *testing.T) {
	f := newKVFixture(t)
	log := &auditLog{}
	f.kv.opts.Auditor = log
	ctx := context.Background()
	cred := f.cred(f.home)
	secrets := f.secretsClient(cred)
	const value = "value-that-must-not-be-logged"
	if _, err := secrets.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: to.Ptr(value)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.UpdateSecretProperties(ctx, "app", "", azsecrets.UpdateSecretPropertiesParameters{ContentType: to.Ptr("text/plain")}, nil); err != nil {
		t.Fatal(err)
	}
	for pg := secrets.NewListSecretPropertiesVersionsPager("app", nil); pg.More(); {
		if _, err := pg.NextPage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := secrets.DeleteSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.GetDeletedSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.RecoverDeletedSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	certs := f.certsClient(cred)
	f.createSelfSigned(certs, "web", "application/x-pkcs12", true)
	if _, err := certs.GetCertificatePolicy(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.DeleteCertificate(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.PurgeDeletedCertificate(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	tok := f.token(f.home)
	// A body that does not decode: the event does not quote it.
	if st, _, _ := f.rawCall("PUT", "/secrets/bad?api-version=7.5", tok, `{"value": "`+value+`"`); st != http.StatusBadRequest {
		t.Fatalf("bad body: %d", st)
	}
	// No token, on a path that is no operation.
	if st, _, _ := f.rawCall("GET", "/nothing-here?api-version=7.5&secret="+value, "", ""); st != http.StatusUnauthorized {
		t.Fatalf("no token: %d", st)
	}
	// A token, on a path that is no operation; an unknown api-version on
	// an operation.
	if st, _, _ := f.rawCall("GET", "/nothing-here?api-version=7.5", tok, ""); st != http.StatusBadRequest {
		t.Fatalf("no operation: %d", st)
	}
	if st, _, _ := f.rawCall("GET", "/secrets/app?api-version=1999-01-01", tok, ""); st != http.StatusBadRequest {
		t.Fatalf("unknown api-version: %d", st)
	}
	// Another vault name: 404, and no vault to log it under.
	req, _ := http.NewRequest("GET", "https://novault.vault.azure.net/secrets/x?api-version=7.5", nil)
	resp, err := f.opts.Transport.(*http.Client).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var ops []string
	events := log.take()
	for _, ev := range events {
		ops = append(ops, fmt.Sprint(ev.OperationName, " ", ev.Status))
		if ev.VaultID != f.vault.ResourceID || ev.VaultName != "testvault" || ev.Time.IsZero() || ev.CallerIP != "127.0.0.1" {
			t.Errorf("event names the vault or caller wrongly: %+v", ev)
		}
		switch {
		case ev.Status == http.StatusUnauthorized:
			if ev.ObjectID != "" || ev.Authorized || ev.ErrorCode != "Unauthorized" {
				t.Errorf("unauthenticated event: %+v", ev)
			}
		case strings.Contains(ev.APIVersion, "1999"):
			// Refused before the token is read: no claims.
			if ev.ObjectID != "" || ev.Authorized || ev.ErrorCode != "BadParameter" {
				t.Errorf("unknown api-version event: %+v", ev)
			}
		case ev.ObjectID != f.home.sp.ID || ev.AppID != f.home.app.AppID || ev.TenantID != f.home.tenant.ID:
			t.Errorf("event claims: %+v", ev)
		}
		if s := fmt.Sprintf("%+v", ev); strings.Contains(s, value) || strings.Contains(s, tok) || strings.Contains(s, "eyJ") {
			t.Fatalf("event holds a value or a token: %s", s)
		}
	}
	// Each SDK client's first request is the token-less challenge (401).
	want := []string{
		"SecretSet 401", "SecretSet 200", "SecretUpdate 200", "SecretListVersions 200", "SecretDelete 200",
		"SecretGetDeleted 200", "SecretRecover 200",
		"CertificateCreate 401", "CertificateCreate 202", "CertificatePendingGet 200", "CertificateGet 200",
		"CertificatePolicyGet 200", "CertificateDelete 200", "CertificatePurge 204",
		"SecretSet 400", "Authentication 401", "Unknown 400", "SecretGet 400",
	}
	if strings.Join(ops, "|") != strings.Join(want, "|") {
		t.Errorf("operations:\n got %q\nwant %q", ops, want)
	}
	if len(events) != len(want) {
		return
	}
	if ev := events[2]; ev.ID != f.vaultURL+"/secrets/app" || !ev.Authorized || ev.APIVersion == "" ||
		!strings.HasPrefix(ev.RequestURI, f.vaultURL+"/secrets/app") || !strings.Contains(ev.ClientInfo, "azsecrets") {
		t.Errorf("SecretUpdate event: %+v", ev)
	}
	if ev := events[14]; ev.ErrorCode != "BadParameter" || strings.Contains(ev.Description, "JSON") {
		t.Errorf("bad body event: %+v", ev)
	}
	if ev := events[15]; ev.RequestURI != f.vaultURL+"/nothing-here?api-version=7.5" || ev.ID != f.vaultURL+"/" {
		t.Errorf("unauthenticated event keeps foreign query parameters or names an object: %+v", ev)
	}
}

// TestAuditorSeesCertificateListAsCollection checks that the
// azcertificates client's list pager is logged as CertificateList (a
// collection: the ID is the vault's URI).
func TestAuditorSeesCertificateListAsCollection(t *testing.T) {
	f := newKVFixture(t)
	log := &auditLog{}
	f.kv.opts.Auditor = log
	c := f.certsClient(f.cred(f.home))
	for pg := c.NewListCertificatePropertiesPager(&azcertificates.ListCertificatePropertiesOptions{}); pg.More(); {
		if _, err := pg.NextPage(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	events := log.take()
	if len(events) != 2 || events[1].OperationName != "CertificateList" || events[1].ID != f.vaultURL+"/" || events[1].Status != 200 {
		t.Fatalf("events: %+v", events)
	}
}

// TestAuditEventsCarryAUsersUPN checks that a user's request (a delegated
// token) is logged with the user's UPN, and an application's without one.
func TestAuditEventsCarryAUsersUPN(t *testing.T) {
	f := newKVFixture(t)
	log := &auditLog{}
	f.kv.opts.Auditor = log
	ctx := context.Background()
	u, err := f.ids.CreateUser(ctx, f.home.tenant.ID, "ada@contoso.test", "Ada", "a-l0ng-Passphrase!")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.ids.IssueUserToken(ctx, f.home.tenant.ID, u.ID, f.home.app.AppID, DefaultResource, identity.SignIn{AMR: []string{"pwd"}, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if st, _, _ := f.rawCall("GET", "/secrets/x?api-version=7.5", tok, ""); st != http.StatusForbidden {
		t.Fatalf("user without a role: %d", st)
	}
	if st, _, _ := f.rawCall("GET", "/secrets/x?api-version=7.5", f.token(f.home), ""); st != http.StatusNotFound {
		t.Fatalf("application: %d", st)
	}
	events := log.take()
	if len(events) != 2 || events[0].UPN != u.UserPrincipalName || events[0].ObjectID != u.ID || events[0].Status != http.StatusForbidden {
		t.Fatalf("user's event: %+v", events)
	}
	if events[1].UPN != "" || events[1].ObjectID != f.home.sp.ID {
		t.Fatalf("application's event: %+v", events[1])
	}
}
