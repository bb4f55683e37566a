package main

import (
	"context"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func newVaultSecretCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "secret", Short: "Manage secrets (az keyvault secret)"}
	set := &cobra.Command{Use: "set", Short: "Set a secret (adds a version)", Args: cobra.NoArgs, RunE: runSecretSet}
	set.Flags().String("name", "", "secret name")
	set.Flags().String("value", "", "secret value")
	set.Flags().String("file", "", "read the value from a file")
	set.Flags().String("content-type", "", "content type")
	set.Flags().StringSlice("tags", nil, "tags as key=value")
	show := &cobra.Command{Use: "show", Short: "Show a secret with its value", Args: cobra.NoArgs, RunE: runSecretShow}
	show.Flags().String("name", "", "secret name")
	show.Flags().String("version", "", "version (default: current)")
	list := &cobra.Command{Use: "list", Short: "List secrets (no values)", Args: cobra.NoArgs, RunE: runSecretList}
	versions := &cobra.Command{Use: "list-versions", Short: "List a secret's versions", Args: cobra.NoArgs, RunE: runSecretList}
	versions.Flags().String("name", "", "secret name")
	deleted := &cobra.Command{Use: "list-deleted", Short: "List deleted secrets", Args: cobra.NoArgs, RunE: runSecretList}
	del := &cobra.Command{Use: "delete", Short: "Delete a secret (soft delete)", Args: cobra.NoArgs, RunE: runSecretLifecycle}
	rec := &cobra.Command{Use: "recover", Short: "Recover a deleted secret", Args: cobra.NoArgs, RunE: runSecretLifecycle}
	purge := &cobra.Command{Use: "purge", Short: "Purge a deleted secret", Args: cobra.NoArgs, RunE: runSecretLifecycle}
	for _, c := range []*cobra.Command{del, rec, purge} {
		c.Flags().String("name", "", "secret name")
	}
	cmd.AddCommand(set, show, list, versions, deleted, del, rec, purge)
	return cmd
}

func secretsClient(cmd *cobra.Command) (*azsecrets.Client, error) {
	conn, err := connectVault(cmd)
	if err != nil {
		return nil, err
	}
	return azsecrets.NewClient(conn.url, conn.cred, &azsecrets.ClientOptions{ClientOptions: conn.opts})
}

func runSecretSet(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	name, _ := cmd.Flags().GetString("name")
	value, _ := cmd.Flags().GetString("value")
	if file, _ := cmd.Flags().GetString("file"); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		value = string(b)
	}
	ct, _ := cmd.Flags().GetString("content-type")
	tagPairs, _ := cmd.Flags().GetStringSlice("tags")
	tags, err := kvTags(tagPairs)
	if err != nil {
		return err
	}
	c, err := secretsClient(cmd)
	if err != nil {
		return err
	}
	p := azsecrets.SetSecretParameters{Value: &value, Tags: tags}
	if ct != "" {
		p.ContentType = to.Ptr(ct)
	}
	res, err := c.SetSecret(cmd.Context(), name, p, nil)
	if err != nil {
		return err
	}
	res.Value = nil // do not echo the value back
	return writeSecret(cmd, format, res.Secret)
}

func runSecretShow(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	name, _ := cmd.Flags().GetString("name")
	ver, _ := cmd.Flags().GetString("version")
	c, err := secretsClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.GetSecret(cmd.Context(), name, ver, nil)
	if err != nil {
		return err
	}
	return writeSecret(cmd, format, res.Secret)
}

func writeSecret(cmd *cobra.Command, format cliout.Format, s azsecrets.Secret) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), s)
	}
	var attrs azsecrets.SecretAttributes
	if s.Attributes != nil {
		attrs = *s.Attributes
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "VERSION", "ENABLED", "CONTENT TYPE", "VALUE"},
		[][]string{{s.ID.Name(), s.ID.Version(), kvBool(attrs.Enabled), kvDeref(s.ContentType), kvDeref(s.Value)}})
}

func runSecretList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := secretsClient(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var items []*azsecrets.SecretProperties
	switch cmd.Name() {
	case "list":
		for p := c.NewListSecretPropertiesPager(nil); p.More(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			items = append(items, page.Value...)
		}
	case "list-versions":
		name, _ := cmd.Flags().GetString("name")
		for p := c.NewListSecretPropertiesVersionsPager(name, nil); p.More(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			items = append(items, page.Value...)
		}
	default:
		var deleted []*azsecrets.DeletedSecretProperties
		for p := c.NewListDeletedSecretPropertiesPager(nil); p.More(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			deleted = append(deleted, page.Value...)
		}
		if format == cliout.JSON {
			return cliout.WriteJSON(cmd.OutOrStdout(), deleted)
		}
		rows := [][]string{}
		for _, d := range deleted {
			rows = append(rows, []string{d.ID.Name(), kvTime(d.DeletedDate), kvTime(d.ScheduledPurgeDate)})
		}
		return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "DELETED", "PURGE AFTER"}, rows)
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), items)
	}
	rows := [][]string{}
	for _, s := range items {
		var a azsecrets.SecretAttributes
		if s.Attributes != nil {
			a = *s.Attributes
		}
		rows = append(rows, []string{s.ID.Name(), s.ID.Version(), kvBool(a.Enabled), kvDeref(s.ContentType), kvTime(a.Expires), fmt.Sprint(kvDeref(s.Managed))})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "VERSION", "ENABLED", "CONTENT TYPE", "EXPIRES", "MANAGED"}, rows)
}

func runSecretLifecycle(cmd *cobra.Command, _ []string) error {
	c, err := secretsClient(cmd)
	if err != nil {
		return err
	}
	return runLifecycle(cmd, lifecycle{
		del: func(ctx context.Context, n string) (any, error) {
			r, err := c.DeleteSecret(ctx, n, nil)
			return r.DeletedSecret, err
		},
		recover: func(ctx context.Context, n string) (any, error) {
			r, err := c.RecoverDeletedSecret(ctx, n, nil)
			return r.Secret, err
		},
		purge: func(ctx context.Context, n string) error { _, err := c.PurgeDeletedSecret(ctx, n, nil); return err },
	})
}
