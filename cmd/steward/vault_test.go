package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
)

// serveVault runs a Steward with the vault in dir until the test ends.
func serveVault(t *testing.T) string {
	t.Helper()
	dir, _ := serveCloud(t, server.VaultService(server.VaultOptions{}))
	return dir
}

func TestVaultCLIMirrorsAzKeyvault(t *testing.T) {
	dir := serveVault(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := runCLI(t, append(append([]string{"vault"}, args...), "--data", dir)...)
		if err != nil {
			t.Fatalf("steward vault %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("secret", "set", "--name", "db", "--value", "hunter2", "--content-type", "text/plain", "--tags", "env=dev")
	if out := run("secret", "show", "--name", "db"); !strings.Contains(out, "hunter2") || !strings.Contains(out, "text/plain") {
		t.Fatalf("secret show:\n%s", out)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(run("secret", "list", "-o", "json")), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("secret list json: %v %v", listed, err)
	}
	if out := run("secret", "list"); strings.Contains(out, "hunter2") {
		t.Fatal("secret list shows a value")
	}
	run("secret", "delete", "--name", "db")
	if out := run("secret", "list-deleted"); !strings.Contains(out, "db") {
		t.Fatalf("list-deleted:\n%s", out)
	}
	run("secret", "recover", "--name", "db")

	run("key", "create", "--name", "signer", "--kty", "EC", "--curve", "P-384")
	if out := run("key", "show", "--name", "signer"); !strings.Contains(out, "P-384") {
		t.Fatalf("key show:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "payload")
	os.WriteFile(file, []byte("release artifact"), 0o600)
	var sig map[string]string
	if err := json.Unmarshal([]byte(run("key", "sign", "--name", "signer", "--algorithm", "ES384", "--file", file, "-o", "json")), &sig); err != nil || len(sig["signature"]) != 128 {
		t.Fatalf("sign: %v %v", sig, err)
	}
	run("key", "rotate", "--name", "signer")
	if out := run("key", "list-versions", "--name", "signer"); strings.Count(out, "signer") != 2 {
		t.Fatalf("key versions:\n%s", out)
	}

	run("certificate", "create", "--name", "web", "--subject", "CN=web.example.test")
	if out := run("certificate", "show", "--name", "web"); !strings.Contains(out, "/keys/web/") {
		t.Fatalf("certificate show:\n%s", out)
	}
	pemFile := filepath.Join(t.TempDir(), "web.pem")
	run("certificate", "download", "--name", "web", "--file", pemFile)
	if b, _ := os.ReadFile(pemFile); !strings.HasPrefix(string(b), "-----BEGIN CERTIFICATE-----") {
		t.Fatal("download wrote no PEM certificate")
	}
	run("certificate", "create", "--name", "csr", "--subject", "CN=csr", "--issuer", "Unknown")
	if out := run("certificate", "pending", "--name", "csr"); !strings.Contains(out, "BEGIN CERTIFICATE REQUEST") {
		t.Fatalf("pending:\n%s", out)
	}
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out := run("certificate", "add-credential", "--name", "web", "--app-id", info.ClientID); !strings.Contains(out, info.ClientID) {
		t.Fatalf("add-credential:\n%s", out)
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := identity.NewDirectory(identity.StoreRecords{Store: st}).Application(context.Background(), info.TenantID, info.ClientID)
	st.Close()
	if err != nil || !slices.ContainsFunc(app.KeyCredentials, func(k identity.KeyCredential) bool { return k.DisplayName == "vault:steward/web" }) {
		t.Fatalf("application credentials after add-credential: %+v, %v", app.KeyCredentials, err)
	}
	if out, err := runCLI(t, "vault", "secret", "show", "--name", "missing", "--data", dir); err == nil || !strings.Contains(err.Error(), "SecretNotFound") {
		t.Fatalf("missing secret: %v\n%s", err, out)
	}
}

func TestVaultRootKeyRotation(t *testing.T) {
	dir := serveVault(t)
	if _, err := runCLI(t, "vault", "secret", "set", "--name", "kept", "--value", "across-rotation", "--data", dir); err != nil {
		t.Fatal(err)
	}
	keyFile := os.Getenv("STEWARD_ROOT_KEY_FILE")
	before, _ := os.ReadFile(keyFile)
	for _, sub := range []string{"rotate", "rotate-kek", "retire"} {
		if out, err := runCLI(t, "vault", "root-key", sub, "--data", dir); err != nil {
			t.Fatalf("root-key %s: %v\n%s", sub, err, out)
		}
	}
	after, _ := os.ReadFile(keyFile)
	if string(before) == string(after) {
		t.Fatal("root key file unchanged")
	}
	// The running server still reads the secret (its key ring is in
	// memory), and a fresh process with the new key does too.
	out, err := runCLI(t, "vault", "secret", "show", "--name", "kept", "--data", dir)
	if err != nil || !strings.Contains(out, "across-rotation") {
		t.Fatalf("after rotation: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "vault", "root-key", "rotate-kek", "--data", dir); err != nil {
		t.Fatalf("new key opens the ring: %v\n%s", err, out)
	}
}
