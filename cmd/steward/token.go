package main

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func init() {
	register(newTokenCmd)
	register(newVersionCmd)
}

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token for calling Steward with curl or other HTTP tools",
		Long: `token signs in as the administrator of DATA/bootstrap.json (or with the
AZURE_* variables) and prints an access token for --resource, as
"az account get-access-token" does. The default output is the bare token,
for an Authorization header; -o json prints it with its expiry.`,
		Example: `  curl -H "Authorization: Bearer $(steward token)" \
    "${AZURE_RESOURCE_MANAGER_ENDPOINT}subscriptions?api-version=2022-12-01"
  steward token --resource https://vault.azure.net -o json`,
		Args: cobra.NoArgs,
		RunE: runToken,
	}
	addAPIFlags(cmd)
	cmd.Flags().String("resource", "https://management.azure.com/", "resource (audience) the token is for")
	return cmd
}

// accessToken is token's JSON output, the shape of az account get-access-token.
type accessToken struct {
	AccessToken  string `json:"accessToken"`
	ExpiresOn    string `json:"expiresOn"`
	Subscription string `json:"subscription"`
	TokenType    string `json:"tokenType"`
}

func runToken(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	resource, _ := cmd.Flags().GetString("resource")
	tok, err := api.cred.GetToken(cmd.Context(), policy.TokenRequestOptions{Scopes: []string{strings.TrimSuffix(resource, "/") + "/.default"}})
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), accessToken{AccessToken: tok.Token,
			ExpiresOn: tok.ExpiresOn.UTC().Format(time.RFC3339), Subscription: api.subscription, TokenType: "Bearer"})
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), tok.Token)
	return err
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print Steward's version and the Go version it was built with",
		Example: "  steward version\n  steward version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			info := buildInfo()
			if format == cliout.JSON {
				return cliout.WriteJSON(cmd.OutOrStdout(), info)
			}
			return cliout.WriteTable(cmd.OutOrStdout(), []string{"VERSION", "COMMIT", "GO"},
				[][]string{{info.Version, info.Commit, info.Go}})
		},
	}
}

// versionInfo is what version prints.
type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

// buildInfo reads the version set at link time, else the module version
// go install recorded, and the VCS revision go build recorded.
func buildInfo() versionInfo {
	v := versionInfo{Version: version}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = bi.GoVersion
	if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v.Commit = s.Value
		}
	}
	return v
}
