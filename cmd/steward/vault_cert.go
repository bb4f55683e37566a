package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func newVaultCertificateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "certificate", Short: "Manage certificates (az keyvault certificate)"}
	create := &cobra.Command{Use: "create", Short: "Create a certificate from a policy (self-signed or CSR)", Args: cobra.NoArgs, RunE: runCertCreate}
	create.Flags().String("policy", "", "policy JSON file (Key Vault's CertificatePolicy); overrides the flags below")
	create.Flags().String("subject", "", "subject, such as CN=app")
	create.Flags().String("issuer", "Self", "issuer: Self or Unknown (CSR to merge later)")
	create.Flags().String("content-type", "application/x-pkcs12", "secret content type: application/x-pkcs12 or application/x-pem-file")
	create.Flags().Bool("exportable", true, "whether the private key may be read through the certificate's secret")
	create.Flags().Int32("validity", 12, "validity in months")
	show := &cobra.Command{Use: "show", Short: "Show a certificate", Args: cobra.NoArgs, RunE: runCertShow}
	show.Flags().String("version", "", "version (default: current)")
	pending := &cobra.Command{Use: "pending", Short: "Show a certificate's pending operation (and its CSR)", Args: cobra.NoArgs, RunE: runCertShow}
	download := &cobra.Command{Use: "download", Short: "Write the certificate (public part) to a file", Args: cobra.NoArgs, RunE: runCertDownload}
	download.Flags().String("file", "", "output file")
	download.Flags().String("encoding", "PEM", "PEM or DER")
	imp := &cobra.Command{Use: "import", Short: "Import a PFX or PEM certificate with its key", Args: cobra.NoArgs, RunE: runCertImport}
	imp.Flags().String("file", "", "PFX or PEM file")
	imp.Flags().String("password", "", "PFX password")
	list := &cobra.Command{Use: "list", Short: "List certificates", Args: cobra.NoArgs, RunE: runCertList}
	del := &cobra.Command{Use: "delete", Short: "Delete a certificate with its key and secret", Args: cobra.NoArgs, RunE: runCertLifecycle}
	rec := &cobra.Command{Use: "recover", Short: "Recover a deleted certificate", Args: cobra.NoArgs, RunE: runCertLifecycle}
	purge := &cobra.Command{Use: "purge", Short: "Purge a deleted certificate", Args: cobra.NoArgs, RunE: runCertLifecycle}
	for _, c := range []*cobra.Command{create, show, pending, download, imp, del, rec, purge} {
		c.Flags().String("name", "", "certificate name")
	}
	cmd.AddCommand(create, show, pending, download, imp, list, del, rec, purge, newVaultCredentialCmd())
	return cmd
}

func certsClient(cmd *cobra.Command) (*azcertificates.Client, error) {
	conn, err := connectVault(cmd)
	if err != nil {
		return nil, err
	}
	return azcertificates.NewClient(conn.url, conn.cred, &azcertificates.ClientOptions{ClientOptions: conn.opts})
}

func runCertCreate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	name, _ := f.GetString("name")
	var pol azcertificates.CertificatePolicy
	if file, _ := f.GetString("policy"); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &pol); err != nil {
			return err
		}
	} else {
		subject, _ := f.GetString("subject")
		issuer, _ := f.GetString("issuer")
		ct, _ := f.GetString("content-type")
		exportable, _ := f.GetBool("exportable")
		months, _ := f.GetInt32("validity")
		pol = azcertificates.CertificatePolicy{
			IssuerParameters:          &azcertificates.IssuerParameters{Name: &issuer},
			KeyProperties:             &azcertificates.KeyProperties{Exportable: &exportable, KeyType: to.Ptr(azcertificates.KeyTypeRSA)},
			SecretProperties:          &azcertificates.SecretProperties{ContentType: &ct},
			X509CertificateProperties: &azcertificates.X509CertificateProperties{Subject: &subject, ValidityInMonths: &months},
		}
	}
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.CreateCertificate(cmd.Context(), name, azcertificates.CreateCertificateParameters{CertificatePolicy: &pol}, nil)
	if err != nil {
		return err
	}
	return writeOperation(cmd, format, res.CertificateOperation)
}

func writeOperation(cmd *cobra.Command, format cliout.Format, op azcertificates.CertificateOperation) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), op)
	}
	csr := ""
	if len(op.CSR) > 0 {
		csr = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: op.CSR}))
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "STATUS", "TARGET", "CSR"},
		[][]string{{op.ID.Name(), kvDeref(op.Status), kvDeref(op.Target), csr}})
}

func runCertShow(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	name, _ := cmd.Flags().GetString("name")
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	if cmd.Name() == "pending" {
		res, err := c.GetCertificateOperation(cmd.Context(), name, nil)
		if err != nil {
			return err
		}
		return writeOperation(cmd, format, res.CertificateOperation)
	}
	ver, _ := cmd.Flags().GetString("version")
	res, err := c.GetCertificate(cmd.Context(), name, ver, nil)
	if err != nil {
		return err
	}
	return writeCert(cmd, format, res.Certificate)
}

func writeCert(cmd *cobra.Command, format cliout.Format, cert azcertificates.Certificate) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), cert)
	}
	a := cert.Attributes
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "VERSION", "X5T", "NOT BEFORE", "EXPIRES", "KID", "SID"},
		[][]string{{cert.ID.Name(), cert.ID.Version(), base64.RawURLEncoding.EncodeToString(cert.X509Thumbprint),
			kvTime(a.NotBefore), kvTime(a.Expires), string(kvDeref(cert.KID)), string(kvDeref(cert.SID))}})
}

func runCertDownload(cmd *cobra.Command, _ []string) error {
	name, _ := cmd.Flags().GetString("name")
	file, _ := cmd.Flags().GetString("file")
	enc, _ := cmd.Flags().GetString("encoding")
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.GetCertificate(cmd.Context(), name, "", nil)
	if err != nil {
		return err
	}
	out := res.CER
	if enc == "PEM" {
		out = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: res.CER})
	}
	return os.WriteFile(file, out, 0o644)
}

func runCertImport(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	name, _ := cmd.Flags().GetString("name")
	file, _ := cmd.Flags().GetString("file")
	pwd, _ := cmd.Flags().GetString("password")
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	value := string(b)
	if _, rest := pem.Decode(b); rest == nil || len(b) > 0 && b[0] != '-' {
		value = base64.StdEncoding.EncodeToString(b)
	}
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	p := azcertificates.ImportCertificateParameters{Base64EncodedCertificate: &value}
	if pwd != "" {
		p.Password = &pwd
	}
	res, err := c.ImportCertificate(cmd.Context(), name, p, nil)
	if err != nil {
		return err
	}
	return writeCert(cmd, format, res.Certificate)
}

func runCertList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	var items []*azcertificates.CertificateProperties
	for p := c.NewListCertificatePropertiesPager(nil); p.More(); {
		page, err := p.NextPage(cmd.Context())
		if err != nil {
			return err
		}
		items = append(items, page.Value...)
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), items)
	}
	rows := [][]string{}
	for _, it := range items {
		rows = append(rows, []string{it.ID.Name(), base64.RawURLEncoding.EncodeToString(it.X509Thumbprint), kvBool(it.Attributes.Enabled), kvTime(it.Attributes.Expires)})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "X5T", "ENABLED", "EXPIRES"}, rows)
}

func runCertLifecycle(cmd *cobra.Command, _ []string) error {
	c, err := certsClient(cmd)
	if err != nil {
		return err
	}
	return runLifecycle(cmd, lifecycle{
		del: func(ctx context.Context, n string) (any, error) {
			r, err := c.DeleteCertificate(ctx, n, nil)
			return r.DeletedCertificate, err
		},
		recover: func(ctx context.Context, n string) (any, error) {
			r, err := c.RecoverDeletedCertificate(ctx, n, nil)
			return r.Certificate, err
		},
		purge: func(ctx context.Context, n string) error {
			_, err := c.PurgeDeletedCertificate(ctx, n, nil)
			return err
		},
	})
}
