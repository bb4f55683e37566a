package main

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func newVaultKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage keys and sign with them (az keyvault key)"}
	create := &cobra.Command{Use: "create", Short: "Create a key (RSA 2048/3072/4096, EC P-256/P-384/P-521)", Args: cobra.NoArgs, RunE: runKeyCreate}
	create.Flags().String("kty", "RSA", "key type: RSA, RSA-HSM, EC or EC-HSM")
	create.Flags().Int32("size", 0, "RSA key size (default 2048)")
	create.Flags().String("curve", "", "EC curve (default P-256)")
	create.Flags().StringSlice("ops", nil, "permitted operations (default: all for the type)")
	show := &cobra.Command{Use: "show", Short: "Show a key's public part", Args: cobra.NoArgs, RunE: runKeyShow}
	show.Flags().String("version", "", "version (default: current)")
	list := &cobra.Command{Use: "list", Short: "List keys", Args: cobra.NoArgs, RunE: runKeyList}
	versions := &cobra.Command{Use: "list-versions", Short: "List a key's versions", Args: cobra.NoArgs, RunE: runKeyList}
	rotate := &cobra.Command{Use: "rotate", Short: "Rotate a key (new version, same type)", Args: cobra.NoArgs, RunE: runKeyShow}
	sign := &cobra.Command{Use: "sign", Short: "Sign a file's digest (the key never leaves the vault)", Args: cobra.NoArgs, RunE: runKeySign}
	sign.Flags().String("algorithm", "PS256", "RS256/384/512, PS256/384/512, ES256/384/512")
	sign.Flags().String("file", "", "file whose digest is signed")
	del := &cobra.Command{Use: "delete", Short: "Delete a key (soft delete)", Args: cobra.NoArgs, RunE: runKeyLifecycle}
	rec := &cobra.Command{Use: "recover", Short: "Recover a deleted key", Args: cobra.NoArgs, RunE: runKeyLifecycle}
	purge := &cobra.Command{Use: "purge", Short: "Purge a deleted key", Args: cobra.NoArgs, RunE: runKeyLifecycle}
	for _, c := range []*cobra.Command{create, show, versions, rotate, sign, del, rec, purge} {
		c.Flags().String("name", "", "key name")
	}
	cmd.AddCommand(create, show, list, versions, rotate, sign, del, rec, purge)
	return cmd
}

func keysClient(cmd *cobra.Command) (*azkeys.Client, error) {
	conn, err := connectVault(cmd)
	if err != nil {
		return nil, err
	}
	return azkeys.NewClient(conn.url, conn.cred, &azkeys.ClientOptions{ClientOptions: conn.opts})
}

func runKeyCreate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	name, _ := f.GetString("name")
	kty, _ := f.GetString("kty")
	size, _ := f.GetInt32("size")
	curve, _ := f.GetString("curve")
	ops, _ := f.GetStringSlice("ops")
	p := azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyType(kty))}
	if size != 0 {
		p.KeySize = &size
	}
	if curve != "" {
		p.Curve = to.Ptr(azkeys.CurveName(curve))
	}
	for _, op := range ops {
		p.KeyOps = append(p.KeyOps, to.Ptr(azkeys.KeyOperation(op)))
	}
	c, err := keysClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.CreateKey(cmd.Context(), name, p, nil)
	if err != nil {
		return err
	}
	return writeKey(cmd, format, res.KeyBundle)
}

func runKeyShow(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	name, _ := cmd.Flags().GetString("name")
	c, err := keysClient(cmd)
	if err != nil {
		return err
	}
	var k azkeys.KeyBundle
	if cmd.Name() == "rotate" {
		res, err := c.RotateKey(cmd.Context(), name, nil)
		if err != nil {
			return err
		}
		k = res.KeyBundle
	} else {
		ver, _ := cmd.Flags().GetString("version")
		res, err := c.GetKey(cmd.Context(), name, ver, nil)
		if err != nil {
			return err
		}
		k = res.KeyBundle
	}
	return writeKey(cmd, format, k)
}

func writeKey(cmd *cobra.Command, format cliout.Format, k azkeys.KeyBundle) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), k)
	}
	var ops []string
	for _, op := range k.Key.KeyOps {
		ops = append(ops, string(*op))
	}
	size := ""
	if k.Key.N != nil {
		size = fmt.Sprint(len(k.Key.N) * 8)
	} else if k.Key.Crv != nil {
		size = string(*k.Key.Crv)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "VERSION", "KTY", "SIZE/CURVE", "OPERATIONS", "ENABLED"},
		[][]string{{k.Key.KID.Name(), k.Key.KID.Version(), string(kvDeref(k.Key.Kty)), size, strings.Join(ops, ","), kvBool(k.Attributes.Enabled)}})
}

func runKeyList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := keysClient(cmd)
	if err != nil {
		return err
	}
	var items []*azkeys.KeyProperties
	if cmd.Name() == "list" {
		for p := c.NewListKeyPropertiesPager(nil); p.More(); {
			page, err := p.NextPage(cmd.Context())
			if err != nil {
				return err
			}
			items = append(items, page.Value...)
		}
	} else {
		name, _ := cmd.Flags().GetString("name")
		for p := c.NewListKeyPropertiesVersionsPager(name, nil); p.More(); {
			page, err := p.NextPage(cmd.Context())
			if err != nil {
				return err
			}
			items = append(items, page.Value...)
		}
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), items)
	}
	rows := [][]string{}
	for _, k := range items {
		rows = append(rows, []string{k.KID.Name(), k.KID.Version(), kvBool(k.Attributes.Enabled), kvTime(k.Attributes.Expires), fmt.Sprint(kvDeref(k.Managed))})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "VERSION", "ENABLED", "EXPIRES", "MANAGED"}, rows)
}

// digestFor hashes data for a signature algorithm.
func digestFor(alg string, data []byte) ([]byte, error) {
	switch alg {
	case "RS256", "PS256", "ES256":
		d := sha256.Sum256(data)
		return d[:], nil
	case "RS384", "PS384", "ES384":
		d := sha512.Sum384(data)
		return d[:], nil
	case "RS512", "PS512", "ES512":
		d := sha512.Sum512(data)
		return d[:], nil
	}
	return nil, fmt.Errorf("unknown algorithm %q", alg)
}

func runKeySign(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	name, _ := f.GetString("name")
	alg, _ := f.GetString("algorithm")
	file, _ := f.GetString("file")
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	digest, err := digestFor(alg, data)
	if err != nil {
		return err
	}
	c, err := keysClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.Sign(cmd.Context(), name, "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithm(alg)), Value: digest}, nil)
	if err != nil {
		return err
	}
	sig := base64.RawURLEncoding.EncodeToString(res.Result)
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), map[string]string{"kid": string(kvDeref(res.KID)), "algorithm": alg, "signature": sig})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"KID", "ALGORITHM", "SIGNATURE"}, [][]string{{string(kvDeref(res.KID)), alg, sig}})
}

func runKeyLifecycle(cmd *cobra.Command, _ []string) error {
	c, err := keysClient(cmd)
	if err != nil {
		return err
	}
	return runLifecycle(cmd, lifecycle{
		del: func(ctx context.Context, n string) (any, error) {
			r, err := c.DeleteKey(ctx, n, nil)
			return r.DeletedKey, err
		},
		recover: func(ctx context.Context, n string) (any, error) {
			r, err := c.RecoverDeletedKey(ctx, n, nil)
			return r.KeyBundle, err
		},
		purge: func(ctx context.Context, n string) error { _, err := c.PurgeDeletedKey(ctx, n, nil); return err },
	})
}
