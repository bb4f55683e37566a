package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
)

func newVaultRootKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "root-key", Short: "Rotate the vault's root key (encryption at rest)"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Seal the key ring under a new root key; old and new keys both work until retire",
		Long: `rotate opens the store with the current root key (STEWARD_ROOT_KEY, or the
key file: --root-key-file, STEWARD_ROOT_KEY_FILE, default
~/.config/steward/root.key), seals the key ring under a new random root key
as well, and writes the new key to the key file (when the key came from the
file) or prints it (when it came from the environment). No data is
re-encrypted and running replicas keep working; restart them with the new
key, then run "steward vault root-key retire" to drop the old one.`,
		Example: `  steward vault root-key rotate --data ./steward-data
  steward vault root-key retire --data ./steward-data`,
		Args: cobra.NoArgs, RunE: runRootKey,
	}
	retire := &cobra.Command{Use: "retire", Short: "Drop every root key but the current one from the key ring", Args: cobra.NoArgs, RunE: runRootKey,
		Example: "  steward vault root-key retire --data ./steward-data"}
	kek := &cobra.Command{Use: "rotate-kek", Short: "Add a key-encryption key; new values are sealed under it", Args: cobra.NoArgs, RunE: runRootKey,
		Example: "  steward vault root-key rotate-kek --data ./steward-data"}
	for _, c := range []*cobra.Command{rotate, retire, kek} {
		c.Flags().String("store", "", "store URL (default: SQLite in the data directory)")
		c.Flags().String("root-key-file", "", "root key file (also STEWARD_ROOT_KEY_FILE; default ~/.config/steward/root.key)")
	}
	cmd.AddCommand(rotate, retire, kek)
	return cmd
}

func runRootKey(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	dir := dataDir(cmd)
	cfg := server.DefaultConfig()
	cfg.DataDir = dir
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return err
	}
	cfg.DataDir = dir
	if u, _ := cmd.Flags().GetString("store"); u != "" {
		cfg.StoreURL = u
	}
	if f, _ := cmd.Flags().GetString("root-key-file"); f != "" {
		cfg.RootKeyFile = f
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Store())
	if err != nil {
		return err
	}
	defer st.Close()
	src := cfg.KeySource(os.LookupEnv)
	envName, fromEnv := src.FromEnv()
	keyFile, err := src.Path()
	if err != nil && !fromEnv {
		return err
	}
	sealer, _, err := seal.OpenForDataDir(ctx, st, src, dir, rand.Reader)
	if err != nil {
		return err
	}
	defer sealer.Close()
	result := map[string]string{}
	switch cmd.Name() {
	case "rotate":
		next, text, err := seal.NewRootKey(rand.Reader)
		if err != nil {
			return err
		}
		if err := sealer.RotateRoot(ctx, next); err != nil {
			return err
		}
		clear(next)
		if fromEnv {
			result["newKey"] = text
			result["next"] = "set " + envName + " to newKey on every replica, restart them, then run `steward vault root-key retire`"
		} else {
			if err := seal.ReplaceRootKeyFile(keyFile, text); err != nil {
				return fmt.Errorf("the key ring is sealed under the new key too, but writing %s failed (the old key still works): %w", keyFile, err)
			}
			result["keyFile"] = keyFile
			result["next"] = "restart replicas that read the old key, then run `steward vault root-key retire`"
		}
	case "retire":
		if err := sealer.RetireOtherRoots(ctx); err != nil {
			return err
		}
		result["status"] = "only the current root key opens the key ring"
	default:
		term, err := sealer.RotateKEK(ctx)
		if err != nil {
			return err
		}
		result["activeTerm"] = fmt.Sprint(term)
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), result)
	}
	var rows [][]string
	for _, k := range []string{"newKey", "keyFile", "activeTerm", "status", "next"} {
		if v, ok := result[k]; ok {
			rows = append(rows, []string{k, v})
		}
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"FIELD", "VALUE"}, rows)
}
