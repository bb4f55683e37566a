package main

import (
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/reports"
)

// deniedFlows reads the denied flows of --flows (nothing when unset): a
// workspace's customerId is used as is, a resource ID is read for it.
func deniedFlows(cmd *cobra.Command) ([]reports.Finding, error) {
	ws, _ := cmd.Flags().GetString("flows")
	if ws == "" {
		return nil, nil
	}
	days, _ := cmd.Flags().GetInt("flows-days")
	if days < 1 || days > reports.MaxActivityDays {
		return nil, usageError("--flows-days %d: want 1 to %d", days, reports.MaxActivityDays)
	}
	c, err := newLogsClient(cmd)
	if err != nil {
		return nil, err
	}
	cid := ws
	if strings.HasPrefix(ws, "/") {
		doc, err := c.do(cmd.Context(), http.MethodGet, ws, workspaceAPIVersion, nil)
		if err != nil {
			return nil, err
		}
		if cid = toWorkspace(doc).CustomerID; cid == "" {
			return nil, usageError("--flows %s is not a Log Analytics workspace with a customerId", ws)
		}
	}
	qc, err := c.queryClient()
	if err != nil {
		return nil, err
	}
	findings, err := reports.DeniedFlowsFrom(cmd.Context(), qc, cid, days)
	if err != nil {
		return nil, queryError(err)
	}
	return findings, nil
}
