package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy"
)

func newPolicyEvalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval --definition FILE|--set FILE --resource FILE",
		Short: "Evaluate a definition or initiative against a resource and explain the result",
		Long: `eval evaluates one policy definition (--definition) or initiative (--set)
against one resource document and prints the effect, the compliance state and
every evaluated condition with its value and target. Set members are looked up
by name or ID in --definitions directories (default: the set file's directory
and a sibling policyDefinitions directory). resourceGroup() and subscription()
come from the resource's id, or from a --context file.`,
		Args: cobra.NoArgs,
		RunE: runPolicyEval,
	}
	f := cmd.Flags()
	f.String("definition", "", "policy definition file (JSON)")
	f.String("set", "", "policy set definition (initiative) file (JSON)")
	f.StringSlice("definitions", nil, "directories holding the set's member definitions")
	f.String("resource", "", "resource document file (JSON)")
	f.String("parameters", "", "parameter values file (JSON: {\"p\": v}, {\"p\": {\"value\": v}} or an ARM parameters file)")
	f.String("api-version", "", "api-version of the request (selects versioned alias paths)")
	f.String("context", "", "evaluation context file (JSON: resourceGroup, subscription, requestContext, policy); by default derived from the resource's id")
	aliasFlags(cmd, "")
	return cmd
}

// evalRow is one evaluated policy in eval's output.
type evalRow struct {
	ReferenceID string `json:"policyDefinitionReferenceId,omitempty"`
	policy.Result
}

func runPolicyEval(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	defPath, _ := f.GetString("definition")
	setPath, _ := f.GetString("set")
	resPath, _ := f.GetString("resource")
	if (defPath == "") == (setPath == "") || resPath == "" {
		return fmt.Errorf("give --resource and one of --definition and --set")
	}
	copts, err := compileOptions(cmd)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(resPath)
	if err != nil {
		return err
	}
	res, err := policy.ParseResource(data)
	if err != nil {
		return fmt.Errorf("%s: %w", resPath, err)
	}
	var params map[string]any
	if p, _ := f.GetString("parameters"); p != "" {
		pdata, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if params, err = policy.ParseParameterValues(pdata); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	apiVersion, _ := f.GetString("api-version")
	opts := policy.EvalOptions{APIVersion: apiVersion, Explain: true}
	policy.ContextForResource(res).Apply(&opts)
	if c, _ := f.GetString("context"); c != "" {
		cdata, err := os.ReadFile(c)
		if err != nil {
			return err
		}
		ec, err := policy.ParseEvalContext(cdata)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		ec.Apply(&opts)
	}
	rows, err := evaluate(cmd, defPath, setPath, res, params, copts, opts)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), rows)
	}
	return writeEvalTable(cmd, rows)
}

func evaluate(cmd *cobra.Command, defPath, setPath string, res *policy.Resource, params map[string]any,
	copts policy.CompileOptions, opts policy.EvalOptions) ([]evalRow, error) {
	copts.Parameters = params
	ctx := context.Background()
	if defPath != "" {
		data, err := os.ReadFile(defPath)
		if err != nil {
			return nil, err
		}
		p, err := policy.ParseAndCompile(data, copts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", defPath, err)
		}
		return []evalRow{{Result: p.Evaluate(ctx, res, opts)}}, nil
	}
	data, err := os.ReadFile(setPath)
	if err != nil {
		return nil, err
	}
	set, err := policy.ParseSetDefinition(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setPath, err)
	}
	dirs, _ := cmd.Flags().GetStringSlice("definitions")
	if len(dirs) == 0 {
		dirs = []string{filepath.Dir(setPath)}
		if sib := filepath.Join(filepath.Dir(setPath), "..", "policyDefinitions"); isDir(sib) {
			dirs = append(dirs, sib)
		}
	}
	resolve, err := policy.DirResolver(dirs...)
	if err != nil {
		return nil, err
	}
	cs, err := policy.CompileSet(set, resolve, copts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setPath, err)
	}
	members, _ := cs.Evaluate(ctx, res, opts)
	rows := make([]evalRow, 0, len(members))
	for _, m := range members {
		rows = append(rows, evalRow{ReferenceID: m.ReferenceID, Result: m.Result})
	}
	return rows, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func writeEvalTable(cmd *cobra.Command, rows []evalRow) error {
	w := cmd.OutOrStdout()
	var summary [][]string
	var expl [][]string
	for _, r := range rows {
		effect := r.Effect
		if effect == "" {
			effect = "(none)"
		}
		summary = append(summary, []string{r.ReferenceID, effect, string(r.State), r.Error})
		for _, e := range r.Explanation {
			val := cliJSON(e.ExpressionValue)
			if e.Missing {
				val = "(missing)"
			}
			expl = append(expl, []string{r.ReferenceID, fmt.Sprint(e.Result), e.ExpressionKind, e.Expression,
				e.Path, val, e.Operator, cliJSON(e.TargetValue)})
		}
	}
	sumHeader := []string{"reference", "effect", "state", "error"}
	explHeader := []string{"reference", "result", "kind", "expression", "path", "value", "operator", "target"}
	if len(rows) == 1 && rows[0].ReferenceID == "" {
		// A single definition: no reference column.
		sumHeader, explHeader = sumHeader[1:], explHeader[1:]
		for i := range summary {
			summary[i] = summary[i][1:]
		}
		for i := range expl {
			expl[i] = expl[i][1:]
		}
	}
	if err := cliout.WriteTable(w, sumHeader, summary); err != nil {
		return err
	}
	if len(expl) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return cliout.WriteTable(w, explHeader, expl)
}

func cliJSON(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	if err := cliout.WriteJSON(&b, v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
