package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// run executes the CLI with args and returns stdout and the error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// cliOn returns run and must for the Steward whose data directory is dir:
// run runs the CLI with --data dir and returns its output; must does so
// too and fails t when the command fails.
func cliOn(t *testing.T, dir string) (run func(args ...string) (string, error), must func(args ...string) string) {
	run = func(args ...string) (string, error) {
		t.Helper()
		return runCLI(t, append(args, "--data", dir)...)
	}
	must = func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	return run, must
}

// bootstrapDir prepares a data directory as a first `steward serve` would,
// without serving.
func bootstrapDir(t *testing.T) (string, identity.BootstrapInfo) {
	t.Helper()
	dir := t.TempDir()
	ca, err := server.EnsureCA(dir, nil, time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc := identity.NewService(identity.NewMemRecords(), identity.Options{})
	info, _, err := svc.Bootstrap(context.Background(), identity.BootstrapConfig{DataDir: dir,
		AuthorityHost: "https://localhost:8443/", ARMEndpoint: "https://localhost:8443/", CACertPath: ca.CACertPath})
	if err != nil {
		t.Fatal(err)
	}
	return dir, info
}

func TestEnvPrintsExportsForTheSDKs(t *testing.T) {
	dir, info := bootstrapDir(t)
	out, err := runCLI(t, "env", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"export AZURE_TENANT_ID='" + info.TenantID + "'",
		"export AZURE_CLIENT_ID='" + info.ClientID + "'",
		"export AZURE_CLIENT_SECRET='" + info.ClientSecret + "'",
		"export AZURE_AUTHORITY_HOST='https://localhost:8443/'",
		"export SSL_CERT_FILE=", "export REQUESTS_CA_BUNDLE=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, "env", "--data", dir, "--credential", "certificate", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var vars []struct{ Name, Value string }
	if err := json.Unmarshal([]byte(out), &vars); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = v.Value
	}
	if got["AZURE_CLIENT_CERTIFICATE_PATH"] != info.CertificatePath || got["AZURE_CLIENT_SECRET"] != "" {
		t.Errorf("certificate export: %v", got)
	}
}

func TestEnvPointsAtTheProxyWithAbsolutePaths(t *testing.T) {
	dir, info := bootstrapDir(t)
	if err := server.WriteEndpoints(dir, server.Endpoints{URL: "https://localhost:8443/", Proxy: "http://127.0.0.1:8444"}); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(dir))
	rel := filepath.Base(dir)
	out, err := runCLI(t, "env", "--data", rel, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var vars []struct {
		Name, Value string
		Unset       bool
	}
	if err := json.Unmarshal([]byte(out), &vars); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got, unset := map[string]string{}, map[string]bool{}
	for _, v := range vars {
		got[v.Name] = v.Value
		unset[v.Name] = v.Unset
	}
	for _, name := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		if got[name] != "http://127.0.0.1:8444" {
			t.Errorf("%s = %q", name, got[name])
		}
	}
	if got["NO_PROXY"] != "localhost,127.0.0.1,::1" {
		t.Errorf("NO_PROXY = %q", got["NO_PROXY"])
	}
	if !unset["AZURE_AUTHORITY_HOST"] {
		t.Error("AZURE_AUTHORITY_HOST is not unset: the SDKs must use login.microsoftonline.com through the proxy")
	}
	for _, name := range []string{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"} {
		if !filepath.IsAbs(got[name]) {
			t.Errorf("%s = %q, want an absolute path", name, got[name])
		} else if _, err := os.Stat(got[name]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got["AZURE_CLIENT_ID"] != info.ClientID || got["AZURE_CLIENT_SECRET"] != info.ClientSecret {
		t.Errorf("credentials: %v", got)
	}
	for _, c := range []struct{ shell, want, unset string }{
		{"sh", "export HTTPS_PROXY='http://127.0.0.1:8444'\n", "unset AZURE_AUTHORITY_HOST\n"},
		{"fish", "set -gx HTTPS_PROXY 'http://127.0.0.1:8444'\n", "set -e AZURE_AUTHORITY_HOST\n"},
		{"pwsh", "$env:HTTPS_PROXY = 'http://127.0.0.1:8444'\n", "Remove-Item Env:AZURE_AUTHORITY_HOST -ErrorAction SilentlyContinue\n"},
	} {
		out, err := runCLI(t, "env", "--data", rel, "--shell", c.shell)
		if err != nil || !strings.Contains(out, c.want) || !strings.Contains(out, c.unset) {
			t.Errorf("--shell %s: %v\n%s", c.shell, err, out)
		}
	}
	if _, err := runCLI(t, "env", "--data", rel, "--shell", "csh"); err == nil {
		t.Error("--shell csh accepted")
	}
}

func TestEnvAndCAPrintFailClearlyWithoutBootstrap(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"env", "--data", dir}, {"ca", "print", "--data", dir}} {
		_, err := runCLI(t, args...)
		ex, ok := err.(*exitError)
		if !ok || ex.code != 1 || !strings.Contains(ex.msg, "steward serve") {
			t.Errorf("%v: err = %v", args, err)
		}
	}
}

func TestCAPrintWritesPEMAndJSON(t *testing.T) {
	dir, _ := bootstrapDir(t)
	out, err := runCLI(t, "ca", "print", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if out != string(want) {
		t.Errorf("PEM output differs from the CA file")
	}
	out, err = runCLI(t, "ca", "print", "--data", dir, "-o", "json")
	if err != nil || !strings.Contains(out, `"subject": "CN=Steward local CA,O=Steward"`) {
		t.Errorf("json: %v %s", err, out)
	}
}

func TestServeConfigPrecedence(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(cfgFile, []byte("listen: 127.0.0.1:9001\ndata: /from-file\nlogLevel: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STEWARD_DATA", "/from-env")
	t.Setenv("STEWARD_CONFIG", cfgFile)
	cmd := newServeCmd()
	if err := cmd.ParseFlags([]string{"--listen", "127.0.0.1:9002"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadServeConfig(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9002" || cfg.DataDir != "/from-env" || cfg.LogLevel != "warn" {
		t.Errorf("config = %+v", cfg)
	}
	t.Setenv("STEWARD_LOG_LEVEL", "chatty")
	if _, err := loadServeConfig(cmd); err == nil {
		t.Error("invalid log level accepted")
	}
}
