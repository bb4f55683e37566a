package main

import (
	"errors"
	"fmt"
	"io/fs"
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
copy in the store) and prints shell export lines for the
administrator's credentials and for trusting Steward's CA, so that

    eval "$(steward env --data DIR)"

points a user's own Azure SDK programs (EnvironmentCredential,
DefaultAzureCredential) at Steward. --credential certificate exports the
certificate path instead of the client secret.

SSL_CERT_FILE and REQUESTS_CA_BUNDLE name a bundle of the system's trusted
roots plus Steward's CA, so other HTTPS sites keep working. The SDKs must
still be told not to run Entra instance discovery (Go:
DisableInstanceDiscovery: true; Python: disable_instance_discovery=True, or
instance_discovery=False in azure-identity releases before 1.13.0), which no
environment variable controls. See docs/interop.md for the az CLI.`,
		Args: cobra.NoArgs,
		RunE: runEnv,
	}
	cmd.Flags().String("data", "", "data directory (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	cmd.Flags().String("credential", "secret", "credential to export: secret or certificate")
	return cmd
}

// envVar is one exported variable.
type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func runEnv(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	dir := dataDir(cmd)
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
	vars := []envVar{
		{"AZURE_TENANT_ID", info.TenantID},
		{"AZURE_CLIENT_ID", info.ClientID},
	}
	switch cred, _ := cmd.Flags().GetString("credential"); cred {
	case "secret":
		vars = append(vars, envVar{"AZURE_CLIENT_SECRET", info.ClientSecret})
	case "certificate":
		vars = append(vars, envVar{"AZURE_CLIENT_CERTIFICATE_PATH", info.CertificatePath})
	default:
		return fmt.Errorf("--credential %q: want secret or certificate", cred)
	}
	vars = append(vars,
		envVar{"AZURE_AUTHORITY_HOST", info.AuthorityHost},
		envVar{"AZURE_SUBSCRIPTION_ID", info.SubscriptionID},
		envVar{"AZURE_RESOURCE_MANAGER_ENDPOINT", info.ARMEndpoint},
		envVar{"SSL_CERT_FILE", bundle},
		envVar{"REQUESTS_CA_BUNDLE", bundle},
	)
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), vars)
	}
	for _, v := range vars {
		fmt.Fprintf(cmd.OutOrStdout(), "export %s=%s\n", v.Name, shellQuote(v.Value))
	}
	return nil
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
