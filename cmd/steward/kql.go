package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/logs/kql"
)

func init() { register(newKQLCmd) }

func newKQLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kql QUERY",
		Short: "Run a KQL query offline, or against a workspace with --workspace",
		Long: `kql runs a Kusto Query Language query with Steward's engine. Queries built on
datatable, print and range need no server:

  steward kql 'datatable(k:string, v:long)["a",1, "b",2, "a",3] | summarize sum(v) by k'

The result is a table by default; --output json prints the Log Analytics query
API's response shape ({"tables":[{"name","columns","rows"}]}). A query that
returns several tables (fork, facet, funnel_sequence, statements separated by
";") prints each under a "Table: name" line. Use "-" as the
query to read it from standard input. A query that does not parse or compile
exits with status 1 and the error's line and column.

With --workspace (a workspace name with -g, or its customerId) the query runs
on a Log Analytics workspace of a running Steward through the query API, with
the credentials of --data's bootstrap.json or AZURE_* variables:

  steward kql -w ws1 -g rg-logs 'PolicyComplianceStates_CL | take 10'

geo_info_from_ip_address reads an IP geolocation database that Steward does
not ship: offline, name a MaxMind DB city database (GeoLite2-City.mmdb,
GeoIP2-City.mmdb, DB-IP's City Lite) with --geoip-db or STEWARD_GEOIP_DB; a
query through --workspace uses the database the server was started with.`,
		Args: cobra.ExactArgs(1),
		RunE: runKQL,
	}
	cmd.Flags().Duration("timeout", 30*time.Second, "stop the query after this long")
	cmd.Flags().String("geoip-db", "", "MaxMind DB city database (.mmdb) for geo_info_from_ip_address in offline queries (also STEWARD_GEOIP_DB)")
	addWorkspaceQueryFlags(cmd)
	return cmd
}

func runKQL(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	query := args[0]
	if query == "-" {
		data, err := io.ReadAll(io.LimitReader(os.Stdin, kql.MaxQueryBytes+1))
		if err != nil {
			return err
		}
		query = string(data)
	}
	if ws, _ := cmd.Flags().GetString("workspace"); ws != "" {
		if cmd.Flags().Changed("geoip-db") {
			return &exitError{code: exitUsage, msg: "error: --geoip-db applies to offline queries; a query on a workspace uses the database its server was started with (steward serve --geoip-db)"}
		}
		return queryWorkspace(cmd, query)
	}
	geoIP, err := offlineGeoIP(cmd)
	if err != nil {
		return err
	}
	timeout, _ := cmd.Flags().GetDuration("timeout")
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	rs, err := kql.RunTables(ctx, query, kql.Options{GeoIP: geoIP})
	if err != nil {
		return &exitError{code: exitUsage, msg: "error: " + err.Error()}
	}
	if p := rs[len(rs)-1].Partial; p != nil {
		// the governor truncated the result: say so, never silently
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: partial result: %v\n", p)
	}
	out := cmd.OutOrStdout()
	if format == cliout.JSON {
		return cliout.WriteJSON(out, kql.TablesResponse(rs))
	}
	tables := make([]resultTable, len(rs))
	for k, res := range rs {
		t := resultTable{name: res.Name, header: make([]string, len(res.Columns)), rows: make([][]string, len(res.Rows))}
		if t.name == "" {
			t.name = kql.PrimaryResult
		}
		for i, c := range res.Columns {
			t.header[i] = c.Name
		}
		for i, r := range res.Rows {
			cells := make([]string, len(r))
			for j, v := range r {
				cells[j] = v.Plain()
			}
			t.rows[i] = cells
		}
		tables[k] = t
	}
	if err := writeResultTables(out, tables); err != nil {
		return err
	}
	if r := rs[0].Render; r != nil {
		fmt.Fprintln(out, strings.TrimSpace("render: "+r.Chart+" "+r.Text))
	}
	return nil
}

// offlineGeoIP reads the database of --geoip-db, else STEWARD_GEOIP_DB;
// nil when neither names one.
func offlineGeoIP(cmd *cobra.Command) (*kql.GeoIPDB, error) {
	path, _ := cmd.Flags().GetString("geoip-db")
	if path == "" {
		path = os.Getenv("STEWARD_GEOIP_DB")
	}
	if path == "" {
		return nil, nil
	}
	db, err := kql.OpenGeoIPDB(path)
	if err != nil {
		return nil, &exitError{code: exitUsage, msg: "error: --geoip-db: " + err.Error()}
	}
	return db, nil
}

// resultTable is one result table of a query, as text.
type resultTable struct {
	name   string
	header []string
	rows   [][]string
}

// writeResultTables prints a query's result tables: one table as it is;
// several (fork, facet, funnel_sequence, several statements) each under a
// "Table: name" line, separated by a blank line.
func writeResultTables(out io.Writer, tables []resultTable) error {
	for i, t := range tables {
		if len(tables) > 1 {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "Table: %s\n", t.name)
		}
		if err := cliout.WriteTable(out, t.header, t.rows); err != nil {
			return err
		}
	}
	return nil
}
