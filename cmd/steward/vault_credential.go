package main

import (
	"crypto/x509"
	"encoding/base64"
	"errors"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
)

func newVaultCredentialCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add-credential",
		Short: "Make a vault certificate a certificate credential of an application",
		Long: `add-credential reads a vault certificate (its public part, through the API)
and registers it as a certificate credential of the application --app-id in
--tenant-id (default: the home tenant), so the service principal can sign in
with the certificate's key: from an exported file, after reading the key from
the vault, or with the vault signing its client assertions (docs/vault.md).`,
		Args: cobra.NoArgs,
		RunE: runVaultCredential,
	}
	cmd.Flags().String("name", "", "certificate name")
	cmd.Flags().String("version", "", "certificate version (default: current)")
	cmd.Flags().String("app-id", "", "application (client) ID")
	cmd.Flags().String("tenant-id", "", "the application's tenant (default: the home tenant)")
	cmd.Flags().String("store", "", "store URL (default: SQLite in the data directory)")
	return cmd
}

func runVaultCredential(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	name, _ := f.GetString("name")
	ver, _ := f.GetString("version")
	appID, _ := f.GetString("app-id")
	tenant, _ := f.GetString("tenant-id")
	if appID == "" {
		return errors.New("--app-id is required")
	}
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.GetCertificate(cmd.Context(), name, ver, nil)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(res.CER)
	if err != nil {
		return err
	}
	dir := dataDir(cmd)
	if tenant == "" {
		info, err := identity.ReadBootstrap(dir)
		if err != nil {
			return err
		}
		tenant = info.TenantID
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = dir
	if u, _ := f.GetString("store"); u != "" {
		cfg.StoreURL = u
	}
	st, err := store.Open(cmd.Context(), cfg.Store())
	if err != nil {
		return err
	}
	defer st.Close()
	vaultName, _ := cmd.Flags().GetString("vault-name")
	ids := identity.NewService(identity.StoreRecords{Store: st}, identity.Options{})
	kc, err := ids.AddCertificate(cmd.Context(), tenant, appID, "vault:"+vaultName+"/"+name, cert)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), kc)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"KEY ID", "APP ID", "TENANT", "X5T", "END"},
		[][]string{{kc.KeyID, appID, tenant, base64.RawURLEncoding.EncodeToString(kc.ThumbprintSHA1), kc.EndDateTime.UTC().Format("2006-01-02T15:04:05Z")}})
}
