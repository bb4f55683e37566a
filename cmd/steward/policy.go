package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy"
)

func init() { register(newPolicyCmd) }

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate, test and lint Azure Policy definitions offline",
		Long: `policy evaluates Azure Policy definitions and initiatives against resource
documents without Azure: run YAML test cases (test), explain one evaluation
(eval), check definitions for errors (lint), manage alias tables (aliases) and
scan an exported estate for what-if compliance (scan).

Azure's alias table is built in ("steward policy aliases list"; refresh it
with "steward policy aliases update"). Tables stored with "steward policy
aliases import" and --aliases FILE add aliases or override them. A rule that
names an alias the table lacks is an InvalidPolicyAlias error, as in Azure;
--allow-unknown-aliases makes such a rule not applicable instead.`,
	}
	cmd.AddCommand(newPolicyTestCmd(), newPolicyEvalCmd(), newPolicyLintCmd(), newPolicyAliasesCmd(), newPolicyAssignmentCmd(),
		newPolicyDefinitionCmd(), newPolicyExemptionCmd(), newPolicyRemediationCmd(),
		newPolicyScanCmd())
	return cmd
}

// loadAliases returns the alias table policy commands use: the built-in
// table (or the one `aliases update` stored), the tables stored with
// `aliases import`, and the --aliases file over them.
func loadAliases(cmd *cobra.Command) (*policy.AliasTable, error) {
	t, _, err := policy.DefaultAliases()
	if err != nil {
		return nil, err
	}
	if f, _ := cmd.Flags().GetString("aliases"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		extra, err := policy.LoadAliases(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		t = policy.Layer(t)
		t.Merge(extra)
	}
	return t, nil
}

// compileOptions are the alias table and --allow-unknown-aliases of a
// policy command.
func compileOptions(cmd *cobra.Command) (policy.CompileOptions, error) {
	t, err := loadAliases(cmd)
	if err != nil {
		return policy.CompileOptions{}, err
	}
	allow, _ := cmd.Flags().GetBool("allow-unknown-aliases")
	return policy.CompileOptions{Aliases: t, AllowUnknownAliases: allow}, nil
}

// aliasFlags adds --aliases and --allow-unknown-aliases.
func aliasFlags(cmd *cobra.Command, what string) {
	cmd.Flags().String("aliases", "", "alias table file (CSV or provider JSON) added over the built-in table"+what)
	cmd.Flags().Bool("allow-unknown-aliases", false,
		"treat a field naming an alias the table lacks as not applicable instead of an InvalidPolicyAlias error")
}

func newPolicyTestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test PATH...",
		Short: "Run YAML policy test cases",
		Long: `test runs the YAML test cases in the files and directories given (the
format of the Azure Policy conformance suite; see docs/policy.md). Each failure
is printed with the expectation and the outcome; the last line is
"N passed, M failed". The exit status is 1 when any case fails.`,
		Args: cobra.MinimumNArgs(1),
		RunE: runPolicyTest,
	}
	aliasFlags(cmd, ", for cases that name none")
	cmd.Flags().BoolP("verbose", "v", false, "also list the cases that pass")
	return cmd
}

// testReport is the JSON form of `steward policy test`.
type testReport struct {
	Passed   int                 `json:"passed"`
	Failed   int                 `json:"failed"`
	Failures []policy.CaseResult `json:"failures"`
}

func runPolicyTest(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	copts, err := compileOptions(cmd)
	if err != nil {
		return err
	}
	files, err := policy.CaseFiles(args)
	if err != nil {
		return err
	}
	verbose, _ := cmd.Flags().GetBool("verbose")
	out := cmd.OutOrStdout()
	runner := &policy.CaseRunner{Aliases: copts.Aliases, AllowUnknownAliases: copts.AllowUnknownAliases}
	rep := testReport{Failures: []policy.CaseResult{}}
	for _, f := range files {
		cf, err := policy.LoadCaseFile(f)
		if err != nil {
			return err
		}
		for _, res := range runner.RunFile(context.Background(), cf) {
			if res.Pass {
				rep.Passed++
				if verbose && format == cliout.Table {
					fmt.Fprintf(out, "ok   %s:%s\n", f, res.Note)
				}
				continue
			}
			rep.Failed++
			res.File = f
			rep.Failures = append(rep.Failures, res)
			if format == cliout.Table {
				printFailure(out, res)
			}
		}
	}
	if format == cliout.JSON {
		if err := cliout.WriteJSON(out, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	}
	if rep.Failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func printFailure(w io.Writer, r policy.CaseResult) {
	fmt.Fprintf(w, "FAIL %s:%s\n", r.File, r.Note)
	fmt.Fprintf(w, "  - want: %s\n", r.Want)
	fmt.Fprintf(w, "  + got:  %s\n", r.Got)
	if r.DetailsDiff != "" {
		fmt.Fprintln(w, "  details (- want, + got):")
		for _, line := range strings.SplitAfter(strings.TrimSuffix(r.DetailsDiff, "\n"), "\n") {
			fmt.Fprintf(w, "    %s", line)
		}
		fmt.Fprintln(w)
	}
}
