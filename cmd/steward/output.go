package main

import (
	"encoding/json"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

// actionResult is what a command that changes something without returning
// the resource prints: deletes, ingestion, purges. JSON output is this
// object; table output is its NAME and RESULT.
type actionResult struct {
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// printResult writes an action's result as a one-row table or as a JSON
// object.
func printResult(cmd *cobra.Command, r actionResult) error {
	return printResults(cmd, []actionResult{r}, false)
}

// printResults writes results as a table, or as JSON: an array when list
// is set (a command that may act on several things), else the one object.
func printResults(cmd *cobra.Command, rs []actionResult, list bool) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		if !list && len(rs) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), rs[0])
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), rs)
	}
	header := []string{"NAME", "RESULT"}
	detail := false
	for _, r := range rs {
		detail = detail || r.Detail != ""
	}
	if detail {
		header = append(header, "DETAIL")
	}
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		row := []string{r.Name, r.Result}
		if detail {
			row = append(row, r.Detail)
		}
		rows = append(rows, row)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), header, rows)
}

// jsonArg reads a flag value that is inline JSON, @FILE or a file path (as
// az accepts for --rules and --params), into v.
func jsonArg(flag, s string, v any) error {
	data := []byte(s)
	trimmed := strings.TrimSpace(s)
	if !strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "[") {
		b, err := os.ReadFile(strings.TrimPrefix(s, "@"))
		if err != nil {
			return usageError("--%s: %v", flag, err)
		}
		data = b
	}
	if err := json.Unmarshal(data, v); err != nil {
		return usageError("--%s: not valid JSON: %v", flag, err)
	}
	return nil
}

// lastSegment is the last segment of a resource ID.
func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// requireFlag fails with a usage error when a required string flag is empty.
func requireFlag(cmd *cobra.Command, name string) (string, error) {
	v, _ := cmd.Flags().GetString(name)
	if v == "" {
		return "", usageError("--%s is required", name)
	}
	return v, nil
}
