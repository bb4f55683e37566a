package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/server"
)

func init() { register(newCACmd) }

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Show Steward's local certificate authority",
	}
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the CA certificate (PEM) that clients must trust",
		Long: `print writes the local CA certificate of a data directory as PEM, for
SSL_CERT_FILE, REQUESTS_CA_BUNDLE or a system trust store. With --output json
it prints the certificate's path, subject, validity and SHA-256 fingerprint.`,
		Args: cobra.NoArgs,
		RunE: runCAPrint,
	}
	print.Flags().String("data", "", "data directory (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	cmd.AddCommand(print)
	return cmd
}

// caInfo is the JSON form of `steward ca print`.
type caInfo struct {
	Path              string    `json:"path"`
	Subject           string    `json:"subject"`
	NotBefore         time.Time `json:"notBefore"`
	NotAfter          time.Time `json:"notAfter"`
	SHA256Fingerprint string    `json:"sha256Fingerprint"`
}

func runCAPrint(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	dir := dataDir(cmd)
	path := server.CAPath(dir)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &exitError{code: 1, msg: fmt.Sprintf("steward ca print: no CA in %s; start `steward serve --data %s` once first", dir, dir)}
	} else if err != nil {
		return err
	}
	if format != cliout.JSON {
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	cert, err := server.ParseCertificatePEM(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(cert.Raw)
	return cliout.WriteJSON(cmd.OutOrStdout(), caInfo{Path: path, Subject: cert.Subject.String(),
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, SHA256Fingerprint: hex.EncodeToString(sum[:])})
}
