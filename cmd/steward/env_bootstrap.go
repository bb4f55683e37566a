package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// readBootstrap reads the administrator's credentials for `steward env`:
// DATA/bootstrap.json, or the sealed copy in the store once the file has
// been removed. The store and root key come from the same STEWARD_*
// variables serve reads.
func readBootstrap(cmd *cobra.Command, dir string) (identity.BootstrapInfo, error) {
	cfg := server.DefaultConfig()
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return identity.BootstrapInfo{}, err
	}
	cfg.DataDir = dir
	return server.ReadBootstrap(cmd.Context(), cfg, os.LookupEnv)
}
