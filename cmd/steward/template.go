package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/armexpr"
	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/policy/baseline"
	"github.com/steward-gov/steward/internal/policy/scan"
	"github.com/steward-gov/steward/internal/template"
)

func init() { register(newTemplateCmd) }

func newTemplateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "template",
		Short:   "Check ARM templates (and bicep build output) against policies, offline",
		Example: "  steward template check azuredeploy.json --parameters azuredeploy.parameters.json",
	}
	cmd.AddCommand(newTemplateCheckCmd())
	return cmd
}

func newTemplateCheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check TEMPLATE.json",
		Short: "Expand a template as a deployment would and evaluate its resources against policies",
		Long: `check expands an ARM template offline exactly as a Steward deployment does
(parameters and their defaults and constraints, variables, copy loops,
conditions, dependsOn, nested and relativePath-linked templates, symbolic
names of languageVersion 2.0 as bicep build writes them) and evaluates every
resulting resource against policies with the scan engine.

Without --policy or --assignment the policies are Steward's secure baseline
(see steward baseline show). Values only a live deployment knows, such as
reference() to resources outside the template or listKeys(), are left as
their expression; one that a resource's name, type, count or condition needs
is an error.

Output is a table, JSON, or SARIF whose locations point at each resource's
line in the template.

Exit status: 0 when every resource passes, 1 when a policy denies or finds a
resource non-compliant, 2 when the template or parameter file cannot be
expanded (or another input error).`,
		Example: `  steward template check azuredeploy.json --parameters azuredeploy.parameters.json
  bicep build main.bicep && steward template check main.json -o sarif > template.sarif
  steward template check azuredeploy.json --policy my-initiative.json --definitions defs/ --resource-group app-rg`,
		Args: cobra.ExactArgs(1),
		RunE: runTemplateCheck,
	}
	f := cmd.Flags()
	f.String("parameters", "", "deployment parameter file (ARM parameters JSON, or {\"name\": value}), or that JSON inline")
	f.StringArray("policy", nil, "definition or initiative file or folder to assign instead of the baseline (repeatable)")
	f.StringArray("definitions", nil, "folder or file of definitions to resolve initiative members from (repeatable)")
	f.StringArray("assignment", nil, "policy assignment file (repeatable)")
	f.String("policy-parameters", "", "parameter values for the assigned policies (as steward policy scan --parameters)")
	f.String("subscription", "00000000-0000-0000-0000-000000000000", "subscription the deployment targets")
	f.String("resource-group", "rg", "resource group the deployment targets (empty for a subscription-scope template)")
	f.String("location", "westeurope", "location of the resource group (resourceGroup().location) or of the deployment")
	f.String("name", "", "deployment name (deployment().name; default the file name)")
	f.String("aliases", "", "alias table file (CSV or provider JSON); default the stored tables")
	return cmd
}

func runTemplateCheck(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd, cliout.Table, cliout.JSON, "sarif")
	if err != nil {
		return err
	}
	f := cmd.Flags()
	path := args[0]
	res, err := expandTemplateFile(cmd, path)
	if err != nil {
		return err
	}
	in := scan.Policies{}
	in.PolicyPaths, _ = f.GetStringArray("policy")
	in.DefinitionPaths, _ = f.GetStringArray("definitions")
	in.AssignmentFiles, _ = f.GetStringArray("assignment")
	if len(in.PolicyPaths) == 0 && len(in.AssignmentFiles) == 0 {
		in.PolicyFS, in.DefinitionFS = baseline.Initiative(), baseline.Definitions()
	} else {
		in.DefinitionFS = baseline.Definitions()
	}
	if p, _ := f.GetString("policy-parameters"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if in.Defaults.Parameters, err = policy.ParseParameterValues(data); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if in.Aliases, err = loadAliases(cmd); err != nil {
		return err
	}
	plan, err := scan.LoadPlan(in)
	if err != nil {
		return err
	}
	for _, p := range plan.Problems {
		fmt.Fprintf(cmd.ErrOrStderr(), "policy problem: %s: %s\n", p.Source, p.Reason)
	}
	if len(plan.Targets) == 0 {
		return fmt.Errorf("no policy to evaluate (%d problems above)", len(plan.Problems))
	}
	records := make([]scan.Record, 0, len(res.Resources))
	for _, r := range res.Resources {
		if r.Nested {
			continue
		}
		rec := scan.Record{Doc: resourceDocument(r), Where: where(r), Line: r.Pos.Line}
		if r.File != "" && r.File != path {
			rec.URI = filepath.ToSlash(r.File) // a linked template
		}
		records = append(records, rec)
	}
	cfg := scan.Config{Aliases: in.Aliases, Now: time.Now, LazyExplain: format == cliout.Table}
	var sink scan.Sink
	switch format {
	case cliout.JSON:
		sink = &scan.JSONSink{Out: cmd.OutOrStdout()}
	case "sarif":
		sink = &scan.SARIFSink{Out: cmd.OutOrStdout(), EstateURI: filepath.ToSlash(path), ToolVersion: version}
	default:
		sink = &scan.TableSink{Out: cmd.OutOrStdout(), Errs: cmd.ErrOrStderr(), Limit: scan.DefaultTableLimit}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d resources expanded\n", path, len(records))
	}
	rep, err := scan.RunRecords(cmd.Context(), records, plan, cfg, sink)
	if err != nil {
		return err
	}
	if msg := failed(rep, map[string]bool{"noncompliant": true, "error": true}); msg != "" {
		return &exitError{code: 1, msg: msg}
	}
	return nil
}

// expandTemplateFile reads and expands a template offline; any problem is
// an input error (exit 2).
func expandTemplateFile(cmd *cobra.Command, path string) (*template.Result, error) {
	f := cmd.Flags()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(data)
	if err != nil {
		return nil, templateInputError(path, err)
	}
	t.File = path
	var params map[string]any
	if p, _ := f.GetString("parameters"); p != "" {
		if params, err = readDeploymentParameters(p); err != nil {
			return nil, err
		}
	}
	sub, _ := f.GetString("subscription")
	rg, _ := f.GetString("resource-group")
	loc, _ := f.GetString("location")
	name, _ := f.GetString("name")
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	opts := template.Options{
		Scope:          template.Scope{TenantID: "00000000-0000-0000-0000-000000000000", SubscriptionID: sub, ResourceGroup: rg, Location: loc, SubscriptionName: "template check"},
		DeploymentName: name, Parameters: params, Mode: "Incremental",
		Now:     func() time.Time { return time.Now().UTC() },
		NewGUID: func() string { return "00000000-0000-0000-0000-000000000000" },
		Link:    linkFromFile,
	}
	res, err := template.Expand(t, opts)
	if err != nil {
		return nil, templateInputError(path, err)
	}
	return res, nil
}

func templateInputError(path string, err error) error {
	if te, ok := err.(*template.Error); ok && te.Line > 0 {
		return fmt.Errorf("%s:%d:%d: %s: %w", path, te.Line, te.Column, te.Code, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// linkFromFile reads a template linked by relativePath, relative to the
// template that links it.
func linkFromFile(from, rel string) (*template.Template, error) {
	if filepath.IsAbs(rel) {
		return nil, fmt.Errorf("relativePath must be relative")
	}
	p := filepath.Join(filepath.Dir(from), filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(data)
	if err != nil {
		return nil, err
	}
	t.File = p
	return t, nil
}

// readDeploymentParameters reads an ARM deployment parameter file
// ({"$schema", "contentVersion", "parameters": {...}}) or a plain object of
// values.
func readDeploymentParameters(path string) (map[string]any, error) {
	var data []byte
	if strings.HasPrefix(strings.TrimSpace(path), "{") {
		data = []byte(path) // inline JSON
	} else {
		var err error
		if data, err = os.ReadFile(strings.TrimPrefix(path, "@")); err != nil {
			return nil, err
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", path, err)
	}
	if p, ok := doc["parameters"].(map[string]any); ok {
		if _, schema := doc["$schema"]; schema || doc["contentVersion"] != nil {
			return p, nil
		}
	}
	return doc, nil
}

// resourceDocument is a template resource as policy sees it.
func resourceDocument(r *template.Resource) map[string]any {
	doc := make(map[string]any, len(r.Body)+4)
	for k, v := range r.Body {
		doc[k] = v
	}
	doc["id"], doc["name"], doc["type"] = r.ID, r.Name, r.Type
	doc["apiVersion"] = r.APIVersion
	return armexpr.Normalize(doc).(map[string]any)
}

func where(r *template.Resource) string {
	file := r.File
	if file == "" {
		file = "template"
	}
	if r.Pos.Line > 0 {
		return fmt.Sprintf("%s:%d (%s)", file, r.Pos.Line, r.Path)
	}
	return file + " (" + r.Path + ")"
}
