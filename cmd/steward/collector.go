package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/collector"
	"github.com/steward-gov/steward/internal/server"
)

func init() { register(newCollectorCmd) }

func newCollectorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "collector",
		Short: "The managed applications' Policy States Collector (seed 000)",
		Long: `collector drives the Policy States Collector that steward serve runs: it records
the managed applications that notify it, collects the policy states of their
managed resource groups into PolicyComplianceStates_CL, and keeps a default
alert rule on them (see docs/collector.md). The first command prepares it.`,
	}
	status := &cobra.Command{Use: "status", Short: "Show the notification URL, the workspace and the last run", Args: cobra.NoArgs, RunE: runCollectorStatus,
		Example: "  steward collector status\n  steward collector status -o json"}
	run := &cobra.Command{Use: "run", Short: "Collect now, from every registered deployment", Args: cobra.NoArgs, RunE: runCollectorRun,
		Example: "  steward collector run\n  steward collector run -o json"}
	deps := &cobra.Command{Use: "deployments", Short: "List the registered deployments", Args: cobra.NoArgs, RunE: runCollectorDeployments,
		Example: "  steward collector deployments\n  steward collector deployments -o json"}
	reconcile := &cobra.Command{Use: "reconcile", Short: "Read every recorded application again and add those ARM lists that were never notified", Args: cobra.NoArgs, RunE: runCollectorReconcile,
		Example: "  steward collector reconcile\n  steward collector reconcile -o json"}
	for _, c := range []*cobra.Command{status, run, deps, reconcile} {
		addAPIFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

// collectorCall calls the collector API with the command's credential.
func collectorCall(cmd *cobra.Command, method, path string, out any) error {
	c, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	endpoint := strings.TrimSuffix(c.opts.Cloud.Services[azcloud.ResourceManager].Endpoint, "/")
	pl := runtime.NewPipeline("steward", version, runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(c.cred, []string{"https://management.azure.com/.default"}, nil)},
	}, &c.opts.ClientOptions)
	req, err := runtime.NewRequest(cmd.Context(), method, endpoint+server.CollectorPrefix+"api/"+path)
	if err != nil {
		return err
	}
	resp, err := pl.Do(req)
	if err != nil {
		return &exitError{code: exitUnreachable, msg: "error: " + err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return apiError(runtime.NewResponseError(resp))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	return nil
}

func runRows(r *collector.Run) [][]string {
	if r == nil {
		return nil
	}
	state := "running"
	if r.Done {
		state = "done"
	}
	return [][]string{{r.ID, state, strconv.Itoa(r.Deployments), strconv.Itoa(r.Collected), strconv.Itoa(r.Failed),
		strconv.Itoa(r.Inaccessible), strconv.Itoa(r.Rows), r.Started.Format(time.RFC3339)}}
}

var runHeader = []string{"RUN", "STATE", "DEPLOYMENTS", "COLLECTED", "FAILED", "INACCESSIBLE", "ROWS", "STARTED"}

func runCollectorStatus(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var st struct {
		NotificationURL string                    `json:"notificationUrl"`
		Principal       server.CollectorIdentity  `json:"principal"`
		Workspace       string                    `json:"workspace"`
		Run             *collector.Run            `json:"run,omitempty"`
		Reconciliation  *collector.Reconciliation `json:"reconciliation,omitempty"`
	}
	if err := collectorCall(cmd, http.MethodGet, "status", &st); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), st)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "notification URL: %s\nprincipal:        object ID %s, application ID %s (tenant %s)\nworkspace:        %s\n",
		st.NotificationURL, st.Principal.ObjectID, st.Principal.ApplicationID, st.Principal.TenantID, st.Workspace)
	if r := st.Reconciliation; r != nil {
		fmt.Fprintf(w, "reconciled:       %s (known %d, added %d, updated %d, removed %d)\n", r.Started.Format(time.RFC3339),
			r.Result.Known, r.Result.Added, r.Result.Updated, r.Result.Removed)
	}
	if st.Run == nil {
		fmt.Fprintln(w, "last run:         none yet")
		return nil
	}
	fmt.Fprintln(w)
	return cliout.WriteTable(w, runHeader, runRows(st.Run))
}

func runCollectorRun(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var out struct {
		Run      collector.Run       `json:"run"`
		Failures []collector.Failure `json:"failures"`
	}
	if err := collectorCall(cmd, http.MethodPost, "runs", &out); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), out)
	}
	if err := cliout.WriteTable(cmd.OutOrStdout(), runHeader, runRows(&out.Run)); err != nil {
		return err
	}
	failed := 0
	for _, f := range out.Failures {
		if f.Inaccessible {
			// Reported, not an error of the run: the publisher's
			// definition does not authorize the collector's principal.
			fmt.Fprintf(cmd.ErrOrStderr(), "inaccessible: %s: %s\n", f.ApplicationID, f.Error)
			continue
		}
		failed++
		fmt.Fprintf(cmd.ErrOrStderr(), "failed: %s: %s\n", f.ApplicationID, f.Error)
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d deployment(s) could not be collected", failed)}
	}
	return nil
}

func runCollectorDeployments(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var deps []collector.Deployment
	if err := collectorCall(cmd, http.MethodGet, "deployments", &deps); err != nil {
		return err
	}
	if format == cliout.JSON {
		if deps == nil {
			deps = []collector.Deployment{}
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), deps)
	}
	rows := make([][]string, 0, len(deps))
	for _, d := range deps {
		rows = append(rows, []string{d.ApplicationID, d.ProvisioningState, d.ManagedResourceGroupID, d.PlanName, d.LastSeen.Format(time.RFC3339)})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"APPLICATION", "STATE", "MANAGED RESOURCE GROUP", "PLAN", "LAST SEEN"}, rows)
}

func runCollectorReconcile(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var r collector.Reconciled
	if err := collectorCall(cmd, http.MethodPost, "reconcile", &r); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), r)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"KNOWN", "ADDED", "UPDATED", "REMOVED"},
		[][]string{{strconv.Itoa(r.Known), strconv.Itoa(r.Added), strconv.Itoa(r.Updated), strconv.Itoa(r.Removed)}})
}
