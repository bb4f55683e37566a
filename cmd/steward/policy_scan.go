package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/policy/scan"
)

func newPolicyScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan ESTATE",
		Short: "What-if: evaluate policies over an exported estate, offline",
		Long: `scan evaluates policy definitions and initiatives over an exported estate and
reports what Azure Policy would: the compliance summary per assignment and per
definition, the non-compliant resources with the evaluated expressions behind
each, and what deny, modify and append would do to them on their next write.

ESTATE is a file ("-" reads standard input) holding the JSON of az resource
list, Azure Resource Graph output (az graph query pages, several pages, or the
bare data array) or JSON Lines; the format is detected (--format to force).
Resource groups and subscriptions in the estate are evaluated too. A malformed
record is reported with its line or JSON path and the rest is still scanned.

Policies come from --policy files or folders (the built-in corpus folder
works). With no --assignment, each definition and initiative found is assigned
on its own at --scope (default "/", everything) with --parameters and the
definitions' default values; a definition whose required parameters have no
default is reported and skipped. --definitions names folders to resolve
initiative members from without assigning them.

auditIfNotExists and deployIfNotExists look for the related resources in the
estate itself (see docs/scan.md).

--diff OLD_SET NEW_SET compares two versions of an initiative and lists the
resources whose compliance changes.

Exit status: 0 when nothing is non-compliant or denied, 1 otherwise;
--fail-on chooses (none, noncompliant, deny, error; repeatable). Errors in the
command itself exit 2.`,
		Example: `  steward policy scan estate.json --policy ../shared/corpus/azure-policy/built-in-policies/policyDefinitions/Storage
  az graph query -q "resources" --first 1000 | steward policy scan - --policy my-initiative.json --definitions defs/
  steward policy scan estate.jsonl --assignment assignment.json --policy defs/ -o sarif > scan.sarif
  steward policy scan --diff v1/initiative.json v2/initiative.json estate.json --definitions defs/`,
		Args: cobra.RangeArgs(1, 2),
		RunE: runPolicyScan,
	}
	f := cmd.Flags()
	f.String("format", "auto", "estate format: auto, json (az resource list or Resource Graph) or jsonl")
	f.StringArray("policy", nil, "definition or initiative file or folder to assign (repeatable)")
	f.StringArray("definitions", nil, "folder or file of definitions to resolve initiative members from, not assigned (repeatable)")
	f.StringArray("assignment", nil, "policy assignment file (ARM policyAssignment JSON; repeatable); without it every --policy document is assigned")
	f.String("scope", "", `assignment scope (default "/" for default assignments; overrides an assignment file's)`)
	f.StringArray("not-scopes", nil, "scope excluded from evaluation (repeatable)")
	f.String("parameters", "", `parameter values file ({"p": v}, {"p": {"value": v}} or an ARM parameters file)`)
	f.String("enforcement-mode", "", "Default or DoNotEnforce")
	f.StringArray("exemption", nil, "policy exemption file (repeatable)")
	f.StringSlice("diff", nil, "OLD_SET NEW_SET: list the resources whose compliance changes between two initiative versions")
	f.StringSlice("fail-on", []string{"noncompliant"}, "what makes the exit status 1: none, noncompliant (or denied), deny, error (evaluation errors, malformed records)")
	f.Bool("progress", false, "report progress on stderr even when it is not a terminal")
	f.Bool("stats", false, "print on stderr where the time went: read, parse, evaluate, report")
	f.String("cpuprofile", "", "write a CPU profile of the scan to this file (go tool pprof reads it)")
	_ = f.MarkHidden("cpuprofile")
	f.Int("workers", 0, "evaluating goroutines (default: the number of CPUs)")
	f.Int("limit", scan.DefaultTableLimit, "non-compliant results listed in table output")
	f.String("now", "", "evaluation time (RFC 3339) for exemption expiry and utcNow(); default the current time")
	aliasFlags(cmd, "")
	return cmd
}

func runPolicyScan(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd, cliout.Table, cliout.JSON, "csv", "sarif")
	if err != nil {
		return err
	}
	f := cmd.Flags()
	began := time.Now()
	setGCFloor(scanGCFloor())
	if path, _ := f.GetString("cpuprofile"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	diff, _ := f.GetStringSlice("diff")
	if len(diff) == 1 && len(args) == 2 {
		// --diff OLD NEW ESTATE: NEW arrives as the first argument
		diff, args = append(diff, args[0]), args[1:]
	}
	if len(args) != 1 {
		return fmt.Errorf("give one estate file (or - for standard input)")
	}
	if len(diff) != 0 && len(diff) != 2 {
		return fmt.Errorf("--diff takes two initiative files, OLD_SET and NEW_SET")
	}
	failOn, err := parseFailOn(f)
	if err != nil {
		return err
	}
	in, err := scanPolicies(cmd)
	if err != nil {
		return err
	}
	estateFormat, _ := f.GetString("format")
	cfg := scan.Config{}
	if cfg.Format, err = scan.ParseFormat(estateFormat); err != nil {
		return err
	}
	cfg.Aliases = in.Aliases
	cfg.Workers, _ = f.GetInt("workers")
	if cfg.Now, err = scanClock(f); err != nil {
		return err
	}
	estate, cleanup, err := openEstate(args[0], cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer cleanup()
	var plan *scan.Plan
	if len(diff) == 2 {
		plan, err = scan.LoadDiffPlan(diff[0], diff[1], in)
	} else {
		plan, err = scan.LoadPlan(in)
	}
	if err != nil {
		return err
	}
	if err := invalidAliasProblems(plan.Problems); err != nil {
		return err
	}
	if len(plan.Targets) == 0 {
		return fmt.Errorf("no policy to evaluate: give --policy files or folders (%d skipped; see --output json)", len(plan.Problems))
	}
	limit, _ := f.GetInt("limit")
	cfg.LazyExplain = format == cliout.Table
	sink := newScanSink(format, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], limit)
	if stats, _ := f.GetBool("stats"); stats {
		cfg.Stats = &scan.Stats{Load: time.Since(began)}
	}
	stop := startProgress(cmd, &cfg)
	var rep *scan.Report
	if len(diff) == 2 {
		rep, err = scan.RunDiff(cmd.Context(), estate, plan, cfg, sink)
	} else {
		rep, err = scan.Run(cmd.Context(), estate, plan, cfg, sink)
	}
	stop()
	if cfg.Stats != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), cfg.Stats)
	}
	if err != nil && rep != nil {
		return fmt.Errorf("%s: %w (the records before it were scanned and reported)", args[0], err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if msg := failed(rep, failOn); msg != "" {
		return &exitError{code: 1, msg: msg}
	}
	return nil
}

// scanGCFloor is the heap a scan may reach before the garbage collector
// runs (see setGCFloor): with 32 MiB the scan of a 100,000-resource
// estate stays under 100 MiB resident and spends about a seventh less
// CPU (higher floors save little more and cost their size in RSS).
// STEWARD_SCAN_GC_FLOOR_MB overrides it (for measurements; 0 turns the
// floor off).
func scanGCFloor() uint64 {
	if v, err := strconv.Atoi(os.Getenv("STEWARD_SCAN_GC_FLOOR_MB")); err == nil && v >= 0 {
		return uint64(v) << 20
	}
	return 32 << 20
}

// startCPUProfile writes a CPU profile to path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}

func newScanSink(format cliout.Format, out, errs io.Writer, estate string, limit int) scan.Sink {
	switch format {
	case cliout.JSON:
		return &scan.JSONSink{Out: out}
	case "csv":
		return &scan.CSVSink{Out: out}
	case "sarif":
		uri := estate
		if uri == "-" {
			uri = "stdin"
		}
		return &scan.SARIFSink{Out: out, EstateURI: uri, ToolVersion: version}
	}
	return &scan.TableSink{Out: out, Errs: errs, Limit: limit}
}

// scanPolicies reads the policy flags.
func scanPolicies(cmd *cobra.Command) (scan.Policies, error) {
	f := cmd.Flags()
	var in scan.Policies
	in.PolicyPaths, _ = f.GetStringArray("policy")
	in.DefinitionPaths, _ = f.GetStringArray("definitions")
	in.AssignmentFiles, _ = f.GetStringArray("assignment")
	in.ExemptionFiles, _ = f.GetStringArray("exemption")
	in.Defaults.Scope, _ = f.GetString("scope")
	if f.Changed("not-scopes") {
		in.Defaults.NotScopes, _ = f.GetStringArray("not-scopes")
	}
	mode, _ := f.GetString("enforcement-mode")
	var err error
	if in.Defaults.EnforcementMode, err = scan.ParseEnforcementMode(mode); err != nil {
		return in, err
	}
	if p, _ := f.GetString("parameters"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return in, err
		}
		if in.Defaults.Parameters, err = policy.ParseParameterValues(data); err != nil {
			return in, fmt.Errorf("%s: %w", p, err)
		}
	}
	copts, err := compileOptions(cmd)
	in.Aliases, in.AllowUnknownAliases = copts.Aliases, copts.AllowUnknownAliases
	return in, err
}

func scanClock(f interface{ GetString(string) (string, error) }) (func() time.Time, error) {
	s, _ := f.GetString("now")
	if s == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--now: %w", err)
	}
	return func() time.Time { return t }, nil
}

// openEstate returns the estate opener. Standard input is copied to a
// temporary file first, because the scan reads the estate twice.
func openEstate(path string, stdin io.Reader) (scan.Estate, func(), error) {
	if path != "-" {
		if _, err := os.Stat(path); err != nil {
			return nil, nil, err
		}
		return scan.FileEstate(path), func() {}, nil
	}
	tmp, err := os.CreateTemp("", "steward-estate-*")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, stdin)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return scan.FileEstate(tmp.Name()), cleanup, nil
}

func parseFailOn(f interface {
	GetStringSlice(string) ([]string, error)
}) (map[string]bool, error) {
	list, _ := f.GetStringSlice("fail-on")
	out := map[string]bool{}
	for _, v := range list {
		v = strings.ToLower(strings.TrimSpace(v))
		switch v {
		case "none", "noncompliant", "deny", "error":
			out[v] = true
		case "non-compliant":
			out["noncompliant"] = true
		default:
			return nil, fmt.Errorf("--fail-on %q: want none, noncompliant, deny or error", v)
		}
	}
	return out, nil
}

// failed returns why the scan should exit 1, or "".
func failed(r *scan.Report, on map[string]bool) string {
	switch {
	case on["none"]:
		return ""
	case r.Diff && on["noncompliant"] && r.Regressions > 0:
		return fmt.Sprintf("%d resources become non-compliant", r.Regressions)
	case !r.Diff && on["noncompliant"] && (r.NonCompliant > 0 || r.Denied > 0):
		return fmt.Sprintf("%d non-compliant results (%d denied on next write)", r.NonCompliant, r.Denied)
	case !r.Diff && on["deny"] && r.Denied > 0:
		return fmt.Sprintf("%d results would be denied on next write", r.Denied)
	case on["error"] && (r.Errors > 0 || r.Malformed > 0 || r.InputError != ""):
		return fmt.Sprintf("%d evaluation errors, %d malformed records", r.Errors, r.Malformed)
	}
	return ""
}

// startProgress reports resources/s on stderr once a second while the
// scan runs, when stderr is a terminal or --progress is given.
func startProgress(cmd *cobra.Command, cfg *scan.Config) func() {
	on, _ := cmd.Flags().GetBool("progress")
	if !on {
		on = stderrIsTerminal(cmd)
	}
	if !on {
		return func() {}
	}
	w := cmd.ErrOrStderr()
	done := make(chan struct{})
	finished := make(chan struct{})
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	started := false
	cfg.Progress = func(s *scan.Scanner) {
		started = true
		go func() {
			defer close(finished)
			start := time.Now()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					n := s.Scanned.Load()
					fmt.Fprintf(w, "\rscanned %d resources in %s (%.0f/s)\n", n, time.Since(start).Round(time.Millisecond),
						float64(n)/max(time.Since(start).Seconds(), 1e-9))
					return
				case <-tick.C:
					n := s.Scanned.Load()
					fmt.Fprintf(w, "\rscanned %d resources (%.0f/s, %d workers)", n, float64(n)/time.Since(start).Seconds(), workers)
				}
			}
		}()
	}
	return func() {
		close(done)
		if started {
			select {
			case <-finished:
			case <-time.After(time.Second):
			}
		}
	}
}

// invalidAliasProblems refuses a scan some of whose policies name aliases
// the table lacks: Azure would refuse those definitions, and skipping them
// would report their resources compliant. --allow-unknown-aliases compiles
// them as not applicable instead, and no problem has this code then.
func invalidAliasProblems(problems []scan.Problem) error {
	var msgs []string
	for _, p := range problems {
		if p.Code == policy.CodeInvalidPolicyAlias {
			msgs = append(msgs, "  "+p.Source+": "+strings.TrimPrefix(p.Reason, "skipped: "))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	const max = 20
	n, more := len(msgs), ""
	if len(msgs) > max {
		more = fmt.Sprintf("\n  ... and %d more", len(msgs)-max)
		msgs = msgs[:max]
	}
	return &exitError{code: 2, msg: fmt.Sprintf("InvalidPolicyAlias: %d policies name aliases the alias table lacks:\n%s%s\n"+
		"refresh the table with 'steward policy aliases update', add one with --aliases FILE, or pass --allow-unknown-aliases",
		n, strings.Join(msgs, "\n"), more)}
}
