package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy"
)

func newPolicyLintCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lint PATH...",
		Short: "Parse and compile policy definitions, initiatives, assignments and exemptions",
		Long: `lint checks policy documents and reports each error with the JSON path of
the offending node. A directory stands for the .json files under it. The
exit status is 1 when any file has an error.`,
		Example: `  steward policy lint examples/scan/policies
  steward policy lint examples/policy/storage-secure-transfer.json -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: runPolicyLint,
	}
	aliasFlags(cmd, "")
	return cmd
}

// lintRow is one file's result in lint's output.
type lintRow struct {
	File  string `json:"file"`
	Kind  string `json:"kind"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Warnings are what a definition lacks that Azure accepts anyway
	// (modify/deployIfNotExists details); they do not fail the lint.
	Warnings []string `json:"warnings,omitempty"`
}

func runPolicyLint(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	copts, err := compileOptions(cmd)
	if err != nil {
		return err
	}
	files, err := expandJSONPaths(args)
	if err != nil {
		return err
	}
	var rows []lintRow
	bad := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return usageError("%v", err)
		}
		row := lintRow{File: f, Kind: policy.DetectKind(data).String(), OK: true}
		errs, warns := policy.LintWithWarnings(data, copts)
		if len(errs) > 0 {
			row.OK, row.Error = false, errs[0].Error()
			bad++
		}
		for _, w := range warns {
			row.Warnings = append(row.Warnings, w.Error())
		}
		rows = append(rows, row)
	}
	if format == cliout.JSON {
		if err := cliout.WriteJSON(cmd.OutOrStdout(), rows); err != nil {
			return err
		}
	} else {
		table := make([][]string, 0, len(rows))
		for _, r := range rows {
			status := "ok"
			if !r.OK {
				status = r.Error
			} else if len(r.Warnings) > 0 {
				status = "ok, warning: " + strings.Join(r.Warnings, "; ")
			}
			table = append(table, []string{r.File, r.Kind, status})
		}
		if err := cliout.WriteTable(cmd.OutOrStdout(), []string{"file", "kind", "result"}, table); err != nil {
			return err
		}
	}
	if bad > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d files have errors", bad, len(files))}
	}
	return nil
}
