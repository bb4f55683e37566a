package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/storage"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/vault"
)

// Storage names the at-rest tests read directly, as an attacker holding a
// copy of the database would.
const (
	signingKeysTable = "identity.signingkeys"
	workspacesTable  = "logs-workspaces"
)

// secretsEnv is a Steward serving every service that keeps a secret.
type secretsEnv struct {
	s       *Steward
	stop    func() error
	dir     string
	vault   *VaultPlane
	logs    *logs.Service
	storage *StoragePlane
}

func startSecretsEnv(t *testing.T, dir string) *secretsEnv {
	t.Helper()
	e := &secretsEnv{dir: dir}
	e.s, e.stop = startSteward(t, dir, CloudService(),
		VaultService(VaultOptions{}, func(p *VaultPlane) { e.vault = p }),
		LogsService(func(l *logs.Service) { e.logs = l }),
		StorageService(func(p *StoragePlane) { e.storage = p }))
	return e
}

// signingKeys returns the PKCS #8 DER of every stored signing key, opened
// through the sealer (the one legitimate way to read them).
func signingKeys(t *testing.T, st store.Store, sealer *seal.Sealer) [][]byte {
	t.Helper()
	var out [][]byte
	ctx := context.Background()
	err := st.View(ctx, func(tx store.Tx) error {
		p, err := tx.Scan(ctx, signingKeysTable, store.Query{Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, r := range p.Records {
			var rec struct {
				KID, TenantID string
				PrivateKey    []byte `json:"privateKey"`
				Sealed        []byte `json:"sealedPrivateKey"`
			}
			if err := json.Unmarshal(r.Value, &rec); err != nil {
				return err
			}
			if len(rec.PrivateKey) > 0 {
				out = append(out, rec.PrivateKey)
				continue
			}
			der, err := sealer.Open(ctx, signingKeysTable+"/"+rec.TenantID+"/"+rec.KID, rec.Sealed)
			if err != nil {
				return err
			}
			out = append(out, der)
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("signing keys: %d, %v", len(out), err)
	}
	return out
}

// scanFiles reads every file under dir and reports which needles it
// finds; control must be found, which proves the scan sees the records.
func scanFiles(t *testing.T, dir string, control []byte, needles map[string][]byte) map[string]string {
	t.Helper()
	found := map[string]string{}
	controlFound := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		controlFound = controlFound || bytes.Contains(b, control)
		for what, n := range needles {
			if bytes.Contains(b, n) {
				found[what] = filepath.Base(path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !controlFound {
		t.Fatalf("the scan of %s never found %q; it misses the database", dir, control)
	}
	return found
}

// keyNeedles are fragments of a DER private key, raw and base64 (the form
// JSON gives []byte).
func keyNeedles(name string, der []byte, needles map[string][]byte) {
	needles[name+" (DER)"] = der[len(der)-48:]
	needles[name+" (base64)"] = []byte(base64.StdEncoding.EncodeToString(der)[120:160])
}

// TestNoSecretStewardGeneratedIsInTheDataDirectory creates one of every
// secret Steward generates (token-signing keys, workspace shared keys,
// client secrets, storage account keys, a vault value), stops the server, removes the
// administrator's credential files as a user may after first use, and
// scans every file of the data directory (database, WAL, CA) for each
// secret in raw and encoded forms. The root key lives outside the data
// directory, so the copy of the data alone opens nothing.
func TestNoSecretStewardGeneratedIsInTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	e := startSecretsEnv(t, dir)
	ctx := context.Background()
	info := e.s.Bootstrap
	canary := "vault-canary-" + strings.Repeat("q", 8) + time.Now().Format("150405.000000")
	if _, err := e.vault.Service.SetSecret(ctx, e.vault.Default, "canary", vault.SecretSetParams{Value: to.Ptr(canary)}); err != nil {
		t.Fatal(err)
	}
	ws, err := e.logs.EnsureWorkspace(ctx, "/subscriptions/"+info.SubscriptionID+"/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", "", 30)
	if err != nil {
		t.Fatal(err)
	}
	appSecret, _, err := e.s.Identity.AddClientSecret(ctx, info.TenantID, info.ClientID, "scan", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.storage.Service.EnsureAccount(ctx, "scanacct", storage.Settings{ResourceID: "/subscriptions/" + info.SubscriptionID +
		"/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/scanacct", AllowSharedKeyAccess: true}); err != nil {
		t.Fatal(err)
	}
	acct, err := e.storage.Service.Account(ctx, "scanacct")
	if err != nil {
		t.Fatal(err)
	}
	keys := signingKeys(t, e.s.Store, e.s.Sealer)
	caDER, err := x509.MarshalPKCS8PrivateKey(e.s.CA.key)
	if err != nil {
		t.Fatal(err)
	}
	srvDER, err := x509.MarshalPKCS8PrivateKey(e.s.CA.ServerCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{identity.BootstrapFile, identity.AdminCertFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	needles := map[string][]byte{
		"vault value":                    []byte(canary),
		"workspace primary key":          []byte(ws.PrimaryKey),
		"workspace secondary key":        []byte(ws.SecondaryKey),
		"bootstrap client secret":        []byte(info.ClientSecret),
		"application client secret":      []byte(appSecret),
		"storage account key1":           []byte(acct.Keys[0].Value),
		"storage account key2":           []byte(acct.Keys[1].Value),
		"workspace primary key (raw)":    mustDecode(t, ws.PrimaryKey)[8:40],
		"bootstrap secret (base64)":      []byte(base64.StdEncoding.EncodeToString([]byte(info.ClientSecret))[:24]),
		"root key file content":          mustRead(t, dir+"-root.key")[:32],
		"signing key field name (clear)": []byte(`"privateKey"`),
	}
	for i, der := range keys {
		if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
			t.Fatalf("signing key %d: %v", i, err)
		}
		keyNeedles("signing key", der, needles)
	}
	keyNeedles("local CA private key", caDER, needles)
	keyNeedles("serving certificate private key", srvDER, needles)
	for what, file := range scanFiles(t, dir, []byte(signingKeysTable), needles) {
		t.Errorf("%s found in %s", what, file)
	}

	// With bootstrap.json gone, the next start keeps the administrator's
	// credentials (from the sealed store) instead of minting new ones, and
	// `steward env` reads them from there.
	again := startSecretsEnv(t, dir)
	if again.s.Bootstrap.ClientSecret != info.ClientSecret || again.s.Bootstrap.ClientID != info.ClientID {
		t.Fatalf("restart without bootstrap.json: %+v", again.s.Bootstrap)
	}
	if _, err := os.Stat(filepath.Join(dir, identity.BootstrapFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("bootstrap.json written again: %v", err)
	}
	if who := whoami(t, again.s, adminARMToken(t, again.s)); who["objectId"] != info.ObjectID {
		t.Fatalf("admin token after restart: %v", who)
	}
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBootstrap(ctx, testConfig(dir), func(string) (string, bool) { return "", false })
	if err != nil || got.ClientSecret != info.ClientSecret {
		t.Fatalf("ReadBootstrap from the store: %v", err)
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSecretsAnOlderVersionStoredInClearAreSealedOnStart rewrites the
// signing keys and the workspace records in clear, as Steward stored them
// before they were sealed, and checks that the next start seals them in
// place: the files no longer hold them, and the same keys still sign and
// authenticate.
func TestSecretsAnOlderVersionStoredInClearAreSealedOnStart(t *testing.T) {
	dir := t.TempDir()
	e := startSecretsEnv(t, dir)
	ctx := context.Background()
	ws, err := e.logs.EnsureWorkspace(ctx, "/subscriptions/"+e.s.Bootstrap.SubscriptionID+"/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/old", "", 30)
	if err != nil {
		t.Fatal(err)
	}
	kid := tokenKID(t, adminARMToken(t, e.s))
	keys := signingKeys(t, e.s.Store, e.s.Sealer)
	unsealTables(t, e.s.Store, e.s.Sealer)
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	// JSON stores the clear key in base64, the form an old record has.
	needles := map[string][]byte{"workspace primary key": []byte(ws.PrimaryKey),
		"signing key (base64)": []byte(base64.StdEncoding.EncodeToString(keys[0])[120:160])}
	if found := scanFiles(t, dir, []byte(signingKeysTable), needles); len(found) != len(needles) {
		t.Fatalf("the simulated old data directory holds only %v of the clear secrets", found)
	}

	again := startSecretsEnv(t, dir)
	if got := tokenKID(t, adminARMToken(t, again.s)); got != kid {
		t.Fatalf("token signed with kid %s after sealing, want %s", got, kid)
	}
	if got, err := again.logs.Workspace(ctx, ws.CustomerID); err != nil || got.PrimaryKey != ws.PrimaryKey {
		t.Fatalf("workspace after sealing: %v", err)
	}
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	for what, file := range scanFiles(t, dir, []byte(signingKeysTable), needles) {
		t.Errorf("%s still in clear in %s after a start", what, file)
	}
}

// unsealTables rewrites the signing keys and workspace records in clear.
func unsealTables(t *testing.T, st store.Store, sealer *seal.Sealer) {
	t.Helper()
	ctx := context.Background()
	err := st.Update(ctx, func(tx store.Tx) error {
		p, err := tx.Scan(ctx, signingKeysTable, store.Query{Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, r := range p.Records {
			var rec map[string]any
			if err := json.Unmarshal(r.Value, &rec); err != nil {
				return err
			}
			sealed, _ := base64.StdEncoding.DecodeString(rec["sealedPrivateKey"].(string))
			der, err := sealer.Open(ctx, signingKeysTable+"/"+r.Key, sealed)
			if err != nil {
				return err
			}
			delete(rec, "sealedPrivateKey")
			rec["privateKey"] = der
			b, _ := json.Marshal(rec)
			if _, err := tx.Put(ctx, signingKeysTable, r.Key, b, store.Cond{}); err != nil {
				return err
			}
		}
		p, err = tx.Scan(ctx, workspacesTable, store.Query{Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, r := range p.Records {
			plain, err := sealer.Open(ctx, workspacesTable+"/"+r.Key, r.Value)
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, workspacesTable, r.Key, plain, store.Cond{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
