package main

import (
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/spf13/cobra"
)

// runWorkspaceDelete deletes workspace NAME of --resource-group, with its
// tables and records. Deleting a workspace that does not exist is an
// error, as in az.
func runWorkspaceDelete(cmd *cobra.Command, args []string) error {
	if _, err := outputFormat(cmd); err != nil {
		return err
	}
	c, err := newLogsClient(cmd)
	if err != nil {
		return err
	}
	id, err := c.workspaceID(cmd, args[0])
	if err != nil {
		return err
	}
	if _, err := c.do(cmd.Context(), http.MethodGet, id, workspaceAPIVersion, nil); err != nil {
		return err
	}
	req, err := runtime.NewRequest(cmd.Context(), http.MethodDelete, c.base()+id+"?api-version="+workspaceAPIVersion)
	if err != nil {
		return err
	}
	resp, err := c.arm.Pipeline().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusAccepted, http.StatusNoContent) {
		return apiError(runtime.NewResponseError(resp))
	}
	return printResult(cmd, actionResult{Name: args[0], ID: id, Result: "deleted"})
}
