package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/vault"
)

func init() { register(newVaultCmd) }

func newVaultCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Manage secrets, keys and certificates in Steward's Key Vault-compatible vaults",
		Long: `vault mirrors "az keyvault": secret, key and certificate subcommands that
talk to a running "steward serve" through the Azure SDK's Key Vault clients,
signed in as the administrator of DATA/bootstrap.json.

Vaults are addressed by name (--vault-name, default "steward", the vault
Steward creates on first start). Steward serves vault NAME at
https://NAME.vault.azure.net on its own port; the CLI connects to Steward's
address and presents that host name, so no DNS entry is needed.

"vault root-key rotate" re-seals the vault's key ring under a new root key
without re-encrypting data (see docs/vault.md).`,
	}
	cmd.PersistentFlags().String("data", "", "data directory with bootstrap.json (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	cmd.PersistentFlags().String("vault-name", "steward", "vault name")
	cmd.AddCommand(newVaultSecretCmd(), newVaultKeyCmd(), newVaultCertificateCmd(), newVaultRootKeyCmd())
	cmd.AddCommand(newVaultManageCmds()...)
	return cmd
}

// vaultConn is what the Key Vault clients need: the vault URL, client
// options reaching Steward, and the administrator's credential.
type vaultConn struct {
	url  string
	opts azcore.ClientOptions
	cred azcore.TokenCredential
}

// connectVault reads bootstrap.json and prepares a connection to the
// vault named by --vault-name.
func connectVault(cmd *cobra.Command) (*vaultConn, error) {
	dir := dataDir(cmd)
	info, err := identity.ReadBootstrap(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &exitError{code: exitUnreachable, msg: fmt.Sprintf("steward vault: %s has no bootstrap.json; start `steward serve --data %s` first", dir, dir)}
	} else if err != nil {
		return nil, err
	}
	if err := checkReachable(cmd.Context(), info.ARMEndpoint, dir); err != nil {
		return nil, err
	}
	name, _ := cmd.Flags().GetString("vault-name")
	base, err := url.Parse(info.ARMEndpoint)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("steward vault: bad endpoint %q in bootstrap.json", info.ARMEndpoint)
	}
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(info.CACertPath); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	addr := base.Host
	if base.Port() == "" {
		addr = net.JoinHostPort(base.Hostname(), "443")
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	client := &http.Client{Transport: &http.Transport{
		// The vault's host name is presented in the request; the TLS
		// handshake and the connection go to Steward.
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: base.Hostname()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}}
	opts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: info.AuthorityHost}, Transport: client}
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		return nil, err
	}
	return &vaultConn{url: "https://" + strings.ToLower(name) + "." + vault.DefaultDNSSuffix, opts: opts, cred: cred}, nil
}

// kvTime renders a Key Vault timestamp for tables.
func kvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func kvBool(b *bool) string {
	if b == nil {
		return "true"
	}
	return fmt.Sprint(*b)
}

func kvDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// parseTags reads k=v pairs.
func kvTags(pairs []string) (map[string]*string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := map[string]*string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("tag %q: want key=value", p)
		}
		out[k] = &v
	}
	return out, nil
}

// lifecycle holds one object kind's delete, recover and purge calls.
type lifecycle struct {
	del, recover func(ctx context.Context, name string) (any, error)
	purge        func(ctx context.Context, name string) error
}

// lifecycleWord is the table result of delete, recover and purge.
var lifecycleWord = map[string]string{"delete": "deleted", "recover": "recovered", "purge": "purged"}

// runLifecycle runs the delete, recover or purge subcommand (by the
// command's name) on --name and prints the result.
func runLifecycle(cmd *cobra.Command, l lifecycle) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	name, _ := cmd.Flags().GetString("name")
	ctx := cmd.Context()
	var out any
	switch cmd.Name() {
	case "delete":
		out, err = l.del(ctx, name)
	case "recover":
		out, err = l.recover(ctx, name)
	default:
		err = l.purge(ctx, name)
		out = map[string]string{"name": name, "status": "purged"}
	}
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), out)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "RESULT"}, [][]string{{name, lifecycleWord[cmd.Name()]}})
}
