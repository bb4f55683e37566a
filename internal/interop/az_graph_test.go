package interop

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// registerGraphCloud registers and selects a cloud named Steward as
// registerCloud does, and also names Steward's Microsoft Graph
// ({BaseURL}graph/) as the cloud's microsoft_graph_resource_id: az 2.45
// calls Graph at that resource ID + "v1.0/..." with a token for it. Its
// `cloud register` has no flag for that endpoint, so the cloud goes in as
// --cloud-config JSON.
func (a *azCLI) registerGraphCloud(t *testing.T) {
	t.Helper()
	base := a.s.BaseURL
	cfg := map[string]any{
		"endpoints": map[string]string{
			"resourceManager":                base,
			"activeDirectory":                base + "adfs",
			"activeDirectoryResourceId":      "https://management.core.windows.net/",
			"activeDirectoryGraphResourceId": "https://graph.windows.net/",
			"microsoftGraphResourceId":       base + "graph/",
		},
		"suffixes": map[string]string{"keyvaultDns": ".vault.azure.net"},
	}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "cloud.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	a.json(t, nil, "cloud", "register", "-n", "Steward", "--cloud-config", "@"+path)
	a.json(t, nil, "cloud", "set", "-n", "Steward")
}

// writeCertificate writes a self-signed certificate (cert.pem) and the
// certificate with its key (both.pem) for az's --cert and login.
func writeCertificate(t *testing.T) (certPath, bothPath string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "team-ci"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	c := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	k := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	dir := t.TempDir()
	certPath, bothPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "both.pem")
	if err := os.WriteFile(certPath, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bothPath, append(c, k...), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, bothPath
}

// TestAzureCLIDirectoryThroughGraph drives az 2.45's `az ad` commands
// against Steward's Graph: app registrations, a service principal for
// RBAC with a certificate (which then signs in), a security group with
// the principal as member, and a user; and az's assignee resolution for
// role assignments.
func TestAzureCLIDirectoryThroughGraph(t *testing.T) {
	t.Parallel()
	s := serve(t)
	az := newAzCLI(t, s)
	az.registerGraphCloud(t)
	survey(t, azDirect, "Graph: az ad app create", "Graph: az ad app federated-credential create",
		"Graph: az ad sp create-for-rbac --cert", "Graph: az ad sp show", "Graph: az ad group create",
		"Graph: az ad group member add", "Graph: az ad group member check", "Graph: az ad user create")
	az.json(t, nil, "login", "--service-principal", "-u", s.Info.ClientID, "-p", s.Info.ClientSecret, "--tenant", s.Info.TenantID)

	var app struct{ AppID, ID, DisplayName string }
	az.json(t, &app, "ad", "app", "create", "--display-name", "billing", "--identifier-uris", "api://billing")
	if app.AppID == "" || app.DisplayName != "billing" {
		t.Fatalf("az ad app create: %+v", app)
	}

	fic := filepath.Join(t.TempDir(), "fic.json")
	if err := os.WriteFile(fic, []byte(`{"name":"main","issuer":"https://token.actions.githubusercontent.com",`+
		`"subject":"repo:contoso/billing:ref:refs/heads/main","audiences":["api://AzureADTokenExchange"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var cred struct{ Name, Subject string }
	az.json(t, &cred, "ad", "app", "federated-credential", "create", "--id", app.AppID, "--parameters", "@"+fic)
	if cred.Name != "main" || cred.Subject != "repo:contoso/billing:ref:refs/heads/main" {
		t.Fatalf("az ad app federated-credential create: %+v", cred)
	}

	certPath, bothPath := writeCertificate(t)
	var rbac struct{ AppID, Tenant string }
	az.json(t, &rbac, "ad", "sp", "create-for-rbac", "-n", "team-ci", "--cert", "@"+certPath, "--only-show-errors")
	if rbac.AppID == "" || rbac.Tenant != s.Info.TenantID {
		t.Fatalf("az ad sp create-for-rbac --cert: %+v", rbac)
	}
	var sp struct{ ID, AppID string }
	az.json(t, &sp, "ad", "sp", "show", "--id", rbac.AppID)
	if sp.AppID != rbac.AppID || sp.ID == "" {
		t.Fatalf("az ad sp show: %+v", sp)
	}

	var group struct{ ID, DisplayName string }
	az.json(t, &group, "ad", "group", "create", "--display-name", "team", "--mail-nickname", "team")
	az.json(t, nil, "ad", "group", "member", "add", "--group", "team", "--member-id", sp.ID)
	var check struct{ Value bool }
	az.json(t, &check, "ad", "group", "member", "check", "--group", "team", "--member-id", sp.ID)
	if !check.Value {
		t.Fatal("az ad group member check: the service principal is not a member")
	}

	var user struct{ ID, UserPrincipalName string }
	az.json(t, &user, "ad", "user", "create", "--display-name", "Ann", "--password", "Corr3ct-Horse!", "--user-principal-name", "ann@steward.test")
	if user.ID == "" || user.UserPrincipalName != "ann@steward.test" {
		t.Fatalf("az ad user create: %+v", user)
	}

	t.Run("role assignment list resolves the assignee through Graph", func(t *testing.T) {
		survey(t, azDirect, "Graph: az role assignment list --assignee (user, service principal)")
		for _, assignee := range []string{"ann@steward.test", rbac.AppID} {
			var got []any
			az.json(t, &got, "role", "assignment", "list", "--assignee", assignee, "--all")
			if len(got) != 0 {
				t.Errorf("az role assignment list --assignee %s: %v, want none yet", assignee, got)
			}
		}
		log := s.requestLog()
		for _, want := range []string{"/graph/v1.0/users", "/graph/v1.0/servicePrincipals"} {
			if !strings.Contains(log, want) {
				t.Errorf("az did not resolve the assignee through %s", want)
			}
		}
	})
	t.Run("role assignment create fails in the client", func(t *testing.T) {
		out, err := az.run("role", "assignment", "create", "--assignee", "ann@steward.test", "--role", "Reader",
			"--scope", "/subscriptions/"+s.Info.SubscriptionID)
		if err == nil {
			t.Fatalf("az role assignment create succeeded: gap az-role-config is closed; update docs/graph.md and docs/decisions/graph.md\n%s", out)
		}
		if !strings.Contains(out, "has no attribute 'config'") {
			t.Fatalf("az role assignment create failed otherwise:\n%s", out)
		}
	})
	t.Run("the new principal signs in with its certificate", func(t *testing.T) {
		survey(t, azDirect, "sign-in: az login --service-principal (create-for-rbac certificate)")
		other := newAzCLI(t, s)
		other.registerGraphCloud(t)
		var got []account
		other.json(t, &got, "login", "--service-principal", "-u", rbac.AppID, "-p", bothPath, "--tenant", s.Info.TenantID, "--allow-no-subscriptions")
		if len(got) != 1 || got[0].TenantID != s.Info.TenantID {
			t.Fatalf("az login with the create-for-rbac certificate: %+v", got)
		}
	})
	t.Run("delete", func(t *testing.T) {
		survey(t, azDirect, "Graph: az ad user delete", "Graph: az ad app delete", "Graph: az ad app show (deleted)")
		az.json(t, nil, "ad", "user", "delete", "--id", "ann@steward.test")
		az.json(t, nil, "ad", "app", "delete", "--id", app.AppID)
		out, err := az.run("ad", "app", "show", "--id", app.AppID)
		if err == nil || !strings.Contains(out, "does not exist") {
			t.Fatalf("az ad app show after delete: %v\n%s", err, out)
		}
	})
}
