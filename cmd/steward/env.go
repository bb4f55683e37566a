package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/server"
)

func init() { register(newEnvCmd) }

func newEnvCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print environment variables that point Azure SDKs and tools at a local Steward",
		Long: `env reads DATA/bootstrap.json (or, once that file is removed, the sealed
copy in the store) and DATA/endpoints.json and prints the variables that
make unmodified Azure programs talk to Steward:

  HTTPS_PROXY, HTTP_PROXY   Steward's forward proxy, which serves Azure's own
                            host names (management.azure.com,
                            login.microsoftonline.com, {vault}.vault.azure.net,
                            api.loganalytics.io, IMDS, ...) and refuses all
                            other hosts: other HTTPS sites do not work in a
                            shell with these set.
  NO_PROXY                  loopback, so Steward's own address is reached
                            directly.
  SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE
                            a bundle of the system's roots plus Steward's CA
                            (Go, OpenSSL, Python requests and the az CLI, curl).
  NODE_EXTRA_CA_CERTS       Steward's CA (Node.js adds it to its own roots).
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or, with
  --credential certificate, AZURE_CLIENT_CERTIFICATE_PATH), AZURE_SUBSCRIPTION_ID
                            the administrator service principal, for
                            EnvironmentCredential and DefaultAzureCredential.
  AZURE_RESOURCE_MANAGER_ENDPOINT
                            Steward's own address, for the steward CLI.

AZURE_AUTHORITY_HOST is unset, so the SDKs use login.microsoftonline.com,
which the proxy serves. Paths are absolute. When serve runs with --proxy ''
env prints the older direct settings instead (AZURE_AUTHORITY_HOST set to
Steward's address; the SDKs then need their instance-discovery switch).

The Azure CLI signs in on its default AzureCloud with the same variables:

    eval "$(steward env)"
    az login --service-principal -u "$AZURE_CLIENT_ID" -p "$AZURE_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID"`,
		Example: `  eval "$(steward env --data ./steward-data)"
  steward env --shell fish | source
  steward env --shell pwsh | Invoke-Expression
  steward env --credential certificate -o json`,
		Args: cobra.NoArgs,
		RunE: runEnv,
	}
	cmd.Flags().String("data", "", "data directory (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	cmd.Flags().String("credential", "secret", "credential to export: secret or certificate")
	cmd.Flags().String("shell", "sh", "shell syntax: sh (bash, zsh), fish or pwsh")
	cmd.Flags().String("managed-identity", "", "act as a managed identity: a user-assigned identity's name or resource ID, or the resource ID of a resource with an identity (prints IDENTITY_ENDPOINT, IDENTITY_HEADER and an IMDS binding instead of the administrator's credentials)")
	return cmd
}

// envVar is one variable to export, or to unset when Unset is true.
type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Unset bool   `json:"unset,omitempty"`
}

// loopbackNoProxy is NO_PROXY: Steward's own address and every other
// loopback service are reached directly.
const loopbackNoProxy = "localhost,127.0.0.1,::1"

func runEnv(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	shell, _ := cmd.Flags().GetString("shell")
	if shell != "sh" && shell != "fish" && shell != "pwsh" {
		return &exitError{code: 2, msg: fmt.Sprintf("steward env: --shell %q: want sh, fish or pwsh", shell)}
	}
	dir, err := filepath.Abs(dataDir(cmd))
	if err != nil {
		return err
	}
	info, err := readBootstrap(cmd, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return &exitError{code: 1, msg: fmt.Sprintf("steward env: %s has no bootstrap.json; start `steward serve --data %s` once first", dir, dir)}
	} else if err != nil {
		return err
	}
	bundle, err := server.WriteTrustBundle(dir)
	if err != nil {
		return err
	}
	ep, err := server.ReadEndpoints(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	vars := []envVar{
		{Name: "AZURE_TENANT_ID", Value: info.TenantID},
		{Name: "AZURE_CLIENT_ID", Value: info.ClientID},
	}
	switch cred, _ := cmd.Flags().GetString("credential"); cred {
	case "secret":
		vars = append(vars, envVar{Name: "AZURE_CLIENT_SECRET", Value: info.ClientSecret},
			envVar{Name: "AZURE_CLIENT_CERTIFICATE_PATH", Unset: true})
	case "certificate":
		vars = append(vars, envVar{Name: "AZURE_CLIENT_CERTIFICATE_PATH", Value: absIn(dir, info.CertificatePath)},
			envVar{Name: "AZURE_CLIENT_SECRET", Unset: true})
	default:
		return &exitError{code: 2, msg: fmt.Sprintf("steward env: --credential %q: want secret or certificate", cred)}
	}
	vars = append(vars,
		envVar{Name: "AZURE_SUBSCRIPTION_ID", Value: info.SubscriptionID},
		envVar{Name: "AZURE_RESOURCE_MANAGER_ENDPOINT", Value: info.ARMEndpoint})
	if ep.Proxy != "" {
		vars = append(vars, envVar{Name: "AZURE_AUTHORITY_HOST", Unset: true})
		for _, name := range []string{"HTTPS_PROXY", "HTTP_PROXY"} {
			vars = append(vars, envVar{Name: name, Value: ep.Proxy}, envVar{Name: strings.ToLower(name), Value: ep.Proxy})
		}
		vars = append(vars, envVar{Name: "NO_PROXY", Value: loopbackNoProxy}, envVar{Name: "no_proxy", Value: loopbackNoProxy})
	} else {
		vars = append(vars, envVar{Name: "AZURE_AUTHORITY_HOST", Value: info.AuthorityHost})
	}
	vars = append(vars,
		envVar{Name: "SSL_CERT_FILE", Value: bundle},
		envVar{Name: "REQUESTS_CA_BUNDLE", Value: bundle},
		envVar{Name: "CURL_CA_BUNDLE", Value: bundle},
		envVar{Name: "NODE_EXTRA_CA_CERTS", Value: server.CAPath(dir)},
	)
	if mi, _ := cmd.Flags().GetString("managed-identity"); mi != "" {
		if vars, err = managedIdentityVars(dir, mi, ep, vars); err != nil {
			return err
		}
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), vars)
	}
	writeShell(cmd.OutOrStdout(), shell, vars)
	return nil
}

// managedIdentityVars replaces the administrator's credentials with a
// managed identity's environment: the App Service endpoint
// (IDENTITY_ENDPOINT, IDENTITY_HEADER) and, for clients that ask IMDS
// (http://169.254.169.254 through the proxy), the same binding as the
// proxy's password in HTTP_PROXY.
func managedIdentityVars(dir, subject string, ep server.Endpoints, vars []envVar) ([]envVar, error) {
	if ep.URL == "" {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("steward env: %s has no endpoints.json; start `steward serve --data %s` first", dir, dir)}
	}
	key, err := server.EnsureBindingKey(dir)
	if err != nil {
		return nil, err
	}
	binding := server.IdentityBinding(key, subject)
	out := vars[:0:0]
	for _, v := range vars {
		switch v.Name {
		case "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH":
			out = append(out, envVar{Name: v.Name, Unset: true})
		case "HTTP_PROXY", "http_proxy":
			u, err := url.Parse(v.Value)
			if err != nil {
				return nil, err
			}
			u.User = url.UserPassword("msi", binding)
			out = append(out, envVar{Name: v.Name, Value: u.String()})
		default:
			out = append(out, v)
		}
	}
	return append(out,
		envVar{Name: "IDENTITY_ENDPOINT", Value: strings.TrimSuffix(ep.URL, "/") + server.AppServiceTokenPath},
		envVar{Name: "IDENTITY_HEADER", Value: binding}), nil
}

// absIn makes a path recorded relative to the server's working directory
// absolute, as the file of that name in the data directory.
func absIn(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, filepath.Base(path))
}

// writeShell prints vars in a shell's syntax.
func writeShell(w io.Writer, shell string, vars []envVar) {
	for _, v := range vars {
		switch {
		case shell == "fish" && v.Unset:
			fmt.Fprintf(w, "set -e %s\n", v.Name)
		case shell == "fish":
			fmt.Fprintf(w, "set -gx %s %s\n", v.Name, shellQuote(v.Value))
		case shell == "pwsh" && v.Unset:
			fmt.Fprintf(w, "Remove-Item Env:%s -ErrorAction SilentlyContinue\n", v.Name)
		case shell == "pwsh":
			fmt.Fprintf(w, "$env:%s = %s\n", v.Name, pwshQuote(v.Value))
		case v.Unset:
			fmt.Fprintf(w, "unset %s\n", v.Name)
		default:
			fmt.Fprintf(w, "export %s=%s\n", v.Name, shellQuote(v.Value))
		}
	}
}

// shellQuote quotes s for POSIX shells (and fish, where '\” also
// closes, escapes and reopens).
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pwshQuote quotes s as a PowerShell verbatim string.
func pwshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
