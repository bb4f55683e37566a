package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagAliases lets a command accept other spellings of its flags: each key
// of aliases is read as the flag named by its value. The help shows only
// the canonical name, so that a flag means the same on every command
// (--parameters, --tags, --not-scopes) while the spellings az uses or
// earlier releases had keep working.
func flagAliases(cmd *cobra.Command, aliases map[string]string) {
	prev := cmd.Flags().GetNormalizeFunc()
	cmd.Flags().SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		if canon, ok := aliases[name]; ok {
			name = canon
		}
		return prev(f, name)
	})
}
