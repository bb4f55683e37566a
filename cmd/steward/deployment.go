package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newDeploymentCmd) }

func newDeploymentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deployment",
		Short: "Deploy ARM templates (and bicep build output) through the management API",
		Long: `deployment validates, previews (what-if) and runs template deployments in a
Steward (or Azure) resource group through the Azure SDK, as "az deployment
group" does. Every resource goes through RBAC and policy; a deployment a policy
denies is refused before anything is written. Templates that link others by
relativePath are sent with the linked templates in line.`,
		Example: `  steward deployment what-if web -g app-rg --template-file azuredeploy.json
  steward deployment create web -g app-rg --template-file azuredeploy.json --parameters azuredeploy.parameters.json`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Run a deployment", Args: cobra.ExactArgs(1), RunE: runDeploymentCreate,
		Example: `  steward deployment create web -g app-rg --template-file azuredeploy.json --parameters azuredeploy.parameters.json
  steward deployment create web -g app-rg --template-file main.json --mode Complete
  steward deployment create groups --location westeurope --template-file subscription.json`}
	validate := &cobra.Command{Use: "validate NAME", Short: "Validate a deployment without running it", Args: cobra.ExactArgs(1), RunE: runDeploymentValidate,
		Example: "  steward deployment validate web -g app-rg --template-file azuredeploy.json"}
	whatIf := &cobra.Command{Use: "what-if NAME", Short: "Preview the changes a deployment would make", Args: cobra.ExactArgs(1), RunE: runDeploymentWhatIf,
		Example: "  steward deployment what-if web -g app-rg --template-file azuredeploy.json\n  steward deployment what-if web -g app-rg --template-file main.json --mode Complete -o json"}
	for _, c := range []*cobra.Command{create, validate, whatIf} {
		c.Flags().StringP("template-file", "f", "", "template file (ARM JSON or bicep build output; required)")
		c.Flags().StringP("parameters", "p", "", "parameter file, or inline JSON ({\"name\": value})")
		c.Flags().String("mode", "Incremental", "Incremental or Complete")
		c.Flags().StringP("location", "l", "", "where a subscription-scope deployment's data is kept (required without --resource-group)")
	}
	whatIf.Flags().String("result-format", "FullResourcePayloads", "FullResourcePayloads or ResourceIdOnly")
	list := &cobra.Command{Use: "list", Short: "List a resource group's deployments", Args: cobra.NoArgs, RunE: runDeploymentList,
		Example: "  steward deployment list -g app-rg"}
	show := &cobra.Command{Use: "show NAME", Short: "Show a deployment with its outputs", Args: cobra.ExactArgs(1), RunE: runDeploymentShow,
		Example: "  steward deployment show web -g app-rg -o json"}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a deployment from the history (not its resources)", Args: cobra.ExactArgs(1), RunE: runDeploymentDelete,
		Example: "  steward deployment delete web -g app-rg"}
	cancel := &cobra.Command{Use: "cancel NAME", Short: "Cancel a running deployment (what it already wrote stays)", Args: cobra.ExactArgs(1), RunE: runDeploymentCancel,
		Long: `cancel stops an Accepted or Running deployment before its next resource write;
it then reads Canceled. Resources it already wrote stay, as in Azure. A
deployment that has ended cannot be cancelled (exit 1,
DeploymentCannotBeCancelled). Prints the deployment as it is after the cancel.`,
		Example: "  steward deployment cancel web -g app-rg\n  steward deployment cancel groups -o json"}
	for _, c := range []*cobra.Command{create, validate, whatIf, list, show, del, cancel} {
		c.Flags().StringP("resource-group", "g", "", "resource group; without it the deployment is at the subscription")
		addAPIFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func deploymentsClient(cmd *cobra.Command) (*armresources.DeploymentsClient, string, error) {
	rg, _ := cmd.Flags().GetString("resource-group")
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, "", err
	}
	c, err := armresources.NewDeploymentsClient(api.subscription, api.cred, api.opts)
	return c, rg, err
}

// deploymentInput reads --template-file, --parameters and --mode.
func deploymentInput(cmd *cobra.Command) (tmpl map[string]any, params map[string]any, mode armresources.DeploymentMode, err error) {
	f := cmd.Flags()
	path, _ := f.GetString("template-file")
	if path == "" {
		return nil, nil, "", usageError("--template-file is required")
	}
	if tmpl, err = readTemplateInlined(path, 0); err != nil {
		return nil, nil, "", usageError("%v", err)
	}
	if p, _ := f.GetString("parameters"); p != "" {
		if params, err = readDeploymentParameters(p); err != nil {
			return nil, nil, "", usageError("--parameters: %v", err)
		}
		for k, v := range params {
			if m, ok := v.(map[string]any); ok && (m["value"] != nil || m["reference"] != nil) {
				continue
			}
			params[k] = map[string]any{"value": v}
		}
	}
	m, _ := f.GetString("mode")
	switch strings.ToLower(m) {
	case "incremental":
		mode = armresources.DeploymentModeIncremental
	case "complete":
		mode = armresources.DeploymentModeComplete
	default:
		return nil, nil, "", usageError("--mode %q: want Incremental or Complete", m)
	}
	return tmpl, params, mode, nil
}

// readTemplateInlined reads a template and puts the templates its nested
// deployments link by relativePath in line, as a template spec would
// carry them.
func readTemplateInlined(path string, depth int) (map[string]any, error) {
	if depth > 10 {
		return nil, fmt.Errorf("%s: linked templates nest deeper than 10", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t map[string]any
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: not a JSON template: %w", path, err)
	}
	var walk func(v any) error
	walk = func(v any) error {
		var items []any
		switch rs := v.(type) {
		case []any:
			items = rs
		case map[string]any:
			for _, r := range rs {
				items = append(items, r)
			}
		}
		for _, it := range items {
			r, _ := it.(map[string]any)
			if r == nil || !strings.EqualFold(fmt.Sprint(r["type"]), "Microsoft.Resources/deployments") {
				continue
			}
			props, _ := r["properties"].(map[string]any)
			link, _ := props["templateLink"].(map[string]any)
			if rel, _ := link["relativePath"].(string); rel != "" {
				inner, err := readTemplateInlined(filepath.Join(filepath.Dir(path), filepath.FromSlash(rel)), depth+1)
				if err != nil {
					return err
				}
				delete(props, "templateLink")
				props["template"] = inner
			} else if inner, ok := props["template"].(map[string]any); ok {
				if err := walk(inner["resources"]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return t, walk(t["resources"])
}

// deploymentRequest is what create, validate and what-if read from their
// flags.
type deploymentRequest struct {
	format cliout.Format
	tmpl   map[string]any
	params map[string]any
	mode   armresources.DeploymentMode
	client *armresources.DeploymentsClient
	// rg is "" for a deployment at the subscription, which has a location.
	rg       string
	location *string
}

func newDeploymentRequest(cmd *cobra.Command) (*deploymentRequest, error) {
	format, err := outputFormat(cmd)
	if err != nil {
		return nil, err
	}
	tmpl, params, mode, err := deploymentInput(cmd)
	if err != nil {
		return nil, err
	}
	c, rg, err := deploymentsClient(cmd)
	if err != nil {
		return nil, err
	}
	loc, _ := cmd.Flags().GetString("location")
	if rg == "" && loc == "" {
		return nil, usageError("give --resource-group, or --location for a deployment at the subscription")
	}
	var location *string
	if rg == "" {
		location = to.Ptr(loc)
	}
	return &deploymentRequest{format: format, tmpl: tmpl, params: params, mode: mode, client: c, rg: rg, location: location}, nil
}

// deployment is the request body of create and validate.
func (in *deploymentRequest) deployment() armresources.Deployment {
	return armresources.Deployment{Location: in.location, Properties: &armresources.DeploymentProperties{
		Template: in.tmpl, Parameters: in.params, Mode: to.Ptr(in.mode)}}
}

// pollDeployment waits for a deployment operation the SDK started.
func pollDeployment[T any](cmd *cobra.Command, poller *runtime.Poller[T], err error) (T, error) {
	var zero T
	if err != nil {
		return zero, deploymentError(err)
	}
	resp, err := poller.PollUntilDone(cmd.Context(), nil)
	if err != nil {
		return zero, deploymentError(err)
	}
	return resp, nil
}

func runDeploymentCreate(cmd *cobra.Command, args []string) error {
	in, err := newDeploymentRequest(cmd)
	if err != nil {
		return err
	}
	var d armresources.DeploymentExtended
	if in.rg == "" {
		poller, err := in.client.BeginCreateOrUpdateAtSubscriptionScope(cmd.Context(), args[0], in.deployment(), nil)
		resp, err := pollDeployment(cmd, poller, err)
		if err != nil {
			return err
		}
		d = resp.DeploymentExtended
	} else {
		poller, err := in.client.BeginCreateOrUpdate(cmd.Context(), in.rg, args[0], in.deployment(), nil)
		resp, err := pollDeployment(cmd, poller, err)
		if err != nil {
			return err
		}
		d = resp.DeploymentExtended
	}
	return printDeployments(cmd, in.format, []*armresources.DeploymentExtended{&d}, false)
}

// deploymentError renders a deployment's refusal or failure: a deployment
// that policy or a resource provider refused is the answer no (exit 1),
// not a usage error, even when ARM sends it as a 400.
func deploymentError(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "InvalidTemplateDeployment", "DeploymentFailed", "RequestDisallowedByPolicy", "AuthorizationFailed":
			return &exitError{code: exitNo, msg: responseMessage(re)}
		}
	}
	return apiError(err)
}

func runDeploymentValidate(cmd *cobra.Command, args []string) error {
	in, err := newDeploymentRequest(cmd)
	if err != nil {
		return err
	}
	var v armresources.DeploymentValidateResult
	if in.rg == "" {
		poller, err := in.client.BeginValidateAtSubscriptionScope(cmd.Context(), args[0], in.deployment(), nil)
		resp, err := pollDeployment(cmd, poller, err)
		if err != nil {
			return err
		}
		v = resp.DeploymentValidateResult
	} else {
		poller, err := in.client.BeginValidate(cmd.Context(), in.rg, args[0], in.deployment(), nil)
		resp, err := pollDeployment(cmd, poller, err)
		if err != nil {
			return err
		}
		v = resp.DeploymentValidateResult
	}
	if in.format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), v)
	}
	var rows [][]string
	if v.Properties != nil {
		for _, r := range v.Properties.ValidatedResources {
			rows = append(rows, []string{deref(r.ID)})
		}
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"VALIDATED RESOURCE"}, rows)
}

func runDeploymentWhatIf(cmd *cobra.Command, args []string) error {
	in, err := newDeploymentRequest(cmd)
	if err != nil {
		return err
	}
	rf, _ := cmd.Flags().GetString("result-format")
	body := armresources.DeploymentWhatIf{Location: in.location, Properties: &armresources.DeploymentWhatIfProperties{
		Template: in.tmpl, Parameters: in.params, Mode: to.Ptr(in.mode),
		WhatIfSettings: &armresources.DeploymentWhatIfSettings{ResultFormat: to.Ptr(armresources.WhatIfResultFormat(rf))}}}
	var w armresources.WhatIfOperationResult
	if in.rg == "" {
		poller, err := in.client.BeginWhatIfAtSubscriptionScope(cmd.Context(), args[0], body, nil)
		resp, err := pollDeployment(cmd, poller, err)
		if err != nil {
			return err
		}
		w = resp.WhatIfOperationResult
	} else {
		poller, err := in.client.BeginWhatIf(cmd.Context(), in.rg, args[0], body, nil)
		resp, err := pollDeployment(cmd, poller, err)
		if err != nil {
			return err
		}
		w = resp.WhatIfOperationResult
	}
	if in.format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), w)
	}
	var rows [][]string
	if w.Properties != nil {
		for _, ch := range w.Properties.Changes {
			var paths []string
			for _, d := range ch.Delta {
				paths = append(paths, deref(d.Path))
			}
			sort.Strings(paths)
			rows = append(rows, []string{string(*ch.ChangeType), deref(ch.ResourceID), strings.Join(paths, ", ")})
		}
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"CHANGE", "RESOURCE", "CHANGED PROPERTIES"}, rows)
}

func runDeploymentList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, rg, err := deploymentsClient(cmd)
	if err != nil {
		return err
	}
	var out []*armresources.DeploymentExtended
	if rg == "" {
		out, err = pageAll(cmd, c.NewListAtSubscriptionScopePager(nil),
			func(p armresources.DeploymentsClientListAtSubscriptionScopeResponse) []*armresources.DeploymentExtended {
				return p.Value
			})
	} else {
		out, err = pageAll(cmd, c.NewListByResourceGroupPager(rg, nil),
			func(p armresources.DeploymentsClientListByResourceGroupResponse) []*armresources.DeploymentExtended {
				return p.Value
			})
	}
	if err != nil {
		return err
	}
	return printDeployments(cmd, format, out, true)
}

func runDeploymentShow(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, rg, err := deploymentsClient(cmd)
	if err != nil {
		return err
	}
	d, err := getDeployment(cmd.Context(), c, rg, args[0])
	if err != nil {
		return err
	}
	return printDeployments(cmd, format, []*armresources.DeploymentExtended{d}, false)
}

// getDeployment reads a deployment of the resource group rg, or of the
// subscription when rg is empty.
func getDeployment(ctx context.Context, c *armresources.DeploymentsClient, rg, name string) (*armresources.DeploymentExtended, error) {
	if rg == "" {
		resp, err := c.GetAtSubscriptionScope(ctx, name, nil)
		if err != nil {
			return nil, apiError(err)
		}
		return &resp.DeploymentExtended, nil
	}
	resp, err := c.Get(ctx, rg, name, nil)
	if err != nil {
		return nil, apiError(err)
	}
	return &resp.DeploymentExtended, nil
}

func runDeploymentCancel(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, rg, err := deploymentsClient(cmd)
	if err != nil {
		return err
	}
	if rg == "" {
		_, err = c.CancelAtSubscriptionScope(cmd.Context(), args[0], nil)
	} else {
		_, err = c.Cancel(cmd.Context(), rg, args[0], nil)
	}
	if err != nil {
		return apiError(err)
	}
	d, err := getDeployment(cmd.Context(), c, rg, args[0])
	if err != nil {
		return err
	}
	return printDeployments(cmd, format, []*armresources.DeploymentExtended{d}, false)
}

func runDeploymentDelete(cmd *cobra.Command, args []string) error {
	c, rg, err := deploymentsClient(cmd)
	if err != nil {
		return err
	}
	where := rg
	if rg == "" {
		poller, err := c.BeginDeleteAtSubscriptionScope(cmd.Context(), args[0], nil)
		if err != nil {
			return apiError(err)
		}
		if _, err := poller.PollUntilDone(cmd.Context(), nil); err != nil {
			return apiError(err)
		}
		where = "the subscription"
	} else {
		poller, err := c.BeginDelete(cmd.Context(), rg, args[0], nil)
		if err != nil {
			return apiError(err)
		}
		if _, err := poller.PollUntilDone(cmd.Context(), nil); err != nil {
			return apiError(err)
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "deleted deployment %s from the history of %s\n", args[0], where)
	return nil
}

func printDeployments(cmd *cobra.Command, format cliout.Format, ds []*armresources.DeploymentExtended, list bool) error {
	if format == cliout.JSON {
		if !list && len(ds) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), ds[0])
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), ds)
	}
	var rows [][]string
	for _, d := range ds {
		state, mode, ts, outputs := "", "", "", ""
		if p := d.Properties; p != nil {
			if p.ProvisioningState != nil {
				state = string(*p.ProvisioningState)
			}
			if p.Mode != nil {
				mode = string(*p.Mode)
			}
			if p.Timestamp != nil {
				ts = p.Timestamp.UTC().Format("2006-01-02T15:04:05Z")
			}
			if m, ok := p.Outputs.(map[string]any); ok {
				var names []string
				for k, v := range m {
					vm, _ := v.(map[string]any)
					names = append(names, fmt.Sprintf("%s=%v", k, vm["value"]))
				}
				sort.Strings(names)
				outputs = strings.Join(names, " ")
			}
		}
		rows = append(rows, []string{deref(d.Name), state, mode, ts, outputs})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "STATE", "MODE", "TIMESTAMP", "OUTPUTS"}, rows)
}
