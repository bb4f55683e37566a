package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy/scan"
	"github.com/steward-gov/steward/internal/reports"
)

func init() { register(newReportCmd) }

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Governance reviews: network exposure, credentials, log collection, unused access, rogue deployments, benchmark",
		Long: `report runs Steward's governance reviews and prints their findings as a table,
JSON or CSV. "network" reads an exported estate (the output of "az resource
list", Resource Graph pages or JSON Lines, as "steward policy scan" reads them;
"-" reads standard input); "credentials" reads the vaults and the application
registrations of a running Steward (or Azure) through the Azure SDK and
Microsoft Graph; "access", "rogue" and "benchmark" read a subscription's role
assignments, activity log, deployments and policy compliance the same way;
"jobs" shows the scheduled runs of steward serve. Every report prints a table,
JSON, CSV or SARIF (-o sarif). A report exits 1 when it finds something at or
above --fail-on (default high), 2 when it cannot read its input.`,
	}
	network := &cobra.Command{
		Use:   "network ESTATE",
		Short: "Which ports each network interface accepts from the Internet, and NSG rules that never match",
		Long: `network evaluates network security groups as Azure does: rules in priority
order, the default rules (AllowVnetInBound, AllowAzureLoadBalancerInBound,
DenyAllInBound), and for inbound traffic the subnet's NSG and the interface's
NSG combined (both must allow; a level without an NSG allows everything).

It reports, per network interface, the TCP and UDP ports open to the Internet
(high when SSH or RDP is open on an interface with a public IP, medium for
other ports, low without a public IP), and, per NSG, the rules that can never
match because higher-priority rules decide all their traffic. The estate must
hold the NSGs, virtual networks (or subnets) and network interfaces; one that
names an NSG or subnet the estate lacks is reported, not guessed.`,
		Example: `  steward report network examples/reports/network-estate.json
  az graph query -q "resources | where type startswith 'microsoft.network/'" --first 1000 | steward report network - -o json
  steward report network estate.json --flows /subscriptions/SUB/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/flows --flows-days 7`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEstateReport(cmd, args, func(docs []map[string]any) ([]reports.Finding, error) {
				findings, err := reports.Network(docs)
				if err != nil {
					return nil, err
				}
				denied, err := deniedFlows(cmd)
				return append(findings, denied...), err
			})
		},
	}
	network.Long += `

With --flows WORKSPACE (its resource ID or customerId) it also reads the denied
flows that Traffic Analytics recorded in the workspace's NTANetAnalytics table
over the last --flows-days days, and reports each NSG rule that denied traffic
(DeniedTrafficObserved, low: the rule may be too restrictive), with the number
of denied flows and the latest one's source, protocol and port.`
	network.Flags().String("flows", "", "Log Analytics workspace (resource ID or customerId) whose NTANetAnalytics table holds the flow logs")
	network.Flags().Int("flows-days", 7, "days of flow logs to read with --flows (1 to 90)")
	addAPIFlags(network)
	logging := &cobra.Command{
		Use:   "logging ESTATE",
		Short: "Resources whose logs no workspace collects",
		Long: `logging finds the resources of an exported estate whose logs are not collected:
resources of the types that send platform logs through diagnostic settings (Key
Vault, NSGs, application gateways, firewalls, SQL databases, web apps, AKS,
storage accounts, ...; docs/reports.md lists them) without a diagnostic setting
that sends to a Log Analytics workspace, and virtual machines and scale sets
without a data collection rule association. The estate must include the
diagnostic settings and associations (extension resources), as Resource Graph
returns them.`,
		Example: `  steward report logging examples/reports/logging-estate.json --fail-on none
  steward report logging estate.jsonl -o csv > logging.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEstateReport(cmd, args, func(docs []map[string]any) ([]reports.Finding, error) { return reports.Logging(docs), nil })
		},
	}
	for _, c := range []*cobra.Command{network, logging} {
		c.Flags().String("format", "auto", "estate format: auto, json (az resource list), graph (Resource Graph pages) or jsonl")
		c.Flags().String("fail-on", reports.High, "exit 1 when a finding is at least this severe: high, medium, low or none")
	}
	logging.Flags().Lookup("fail-on").DefValue = reports.Medium
	_ = logging.Flags().Set("fail-on", reports.Medium)
	cmd.AddCommand(network, logging, newReportCredentialsCmd(), newReportAccessCmd(), newReportRogueCmd(), newReportJobsCmd(), newReportBenchmarkCmd())
	return cmd
}

// formatCSV and formatSARIF are the reports' CSV and SARIF 2.1.0 outputs.
const (
	formatCSV   cliout.Format = "csv"
	formatSARIF cliout.Format = "sarif"
)

// reportFormats are the --output values every report takes.
var reportFormats = []cliout.Format{cliout.Table, cliout.JSON, formatCSV, formatSARIF}

// runEstateReport reads the estate named by args[0] and prints what run
// finds in it.
func runEstateReport(cmd *cobra.Command, args []string, run func([]map[string]any) ([]reports.Finding, error)) error {
	format, err := outputFormat(cmd, reportFormats...)
	if err != nil {
		return usageError("%v", err)
	}
	failOn, _ := cmd.Flags().GetString("fail-on")
	rank := severityRank
	if _, ok := rank[failOn]; !ok {
		return usageError("--fail-on %q: want high, medium, low or none", failOn)
	}
	inFormat, _ := cmd.Flags().GetString("format")
	ef, err := scan.ParseFormat(inFormat)
	if err != nil {
		return usageError("%v", err)
	}
	var r io.Reader = cmd.InOrStdin()
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return usageError("%v", err)
		}
		defer f.Close()
		r = f
	}
	var docs []map[string]any
	var bad []string
	if _, err := scan.Read(cmd.Context(), r, ef, func(rec scan.Record) error {
		if rec.Err != nil {
			bad = append(bad, rec.Err.Error())
			return nil
		}
		docs = append(docs, rec.Doc)
		return nil
	}); err != nil {
		return usageError("%s: %v", args[0], err)
	}
	if len(bad) > 0 {
		return usageError("%s: %d malformed records, the first: %s", args[0], len(bad), bad[0])
	}
	findings, err := run(docs)
	if err != nil {
		return usageError("%v", err)
	}
	return finishReport(cmd, format, failOn, findings)
}

// finishReport prints findings, most severe first, and turns them into
// the exit code --fail-on asks for.
func finishReport(cmd *cobra.Command, format cliout.Format, failOn string, findings []reports.Finding) error {
	rank := severityRank
	sort.SliceStable(findings, func(i, j int) bool { return rank[findings[i].Severity] > rank[findings[j].Severity] })
	if err := printFindings(cmd, format, findings); err != nil {
		return err
	}
	for _, f := range findings {
		if rank[f.Severity] >= rank[failOn] {
			return &exitError{code: exitNo}
		}
	}
	return nil
}

// printFindings writes report findings as a table, JSON, CSV or SARIF.
func printFindings(cmd *cobra.Command, format cliout.Format, findings []reports.Finding) error {
	if format == formatSARIF {
		return reports.SARIF(cmd.OutOrStdout(), version, findings)
	}
	if format == cliout.JSON {
		if findings == nil {
			findings = []reports.Finding{}
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), findings)
	}
	header := []string{"SEVERITY", "KIND", "RESOURCE", "FINDING"}
	rows := make([][]string, 0, len(findings))
	for _, f := range findings {
		name := f.ResourceID
		if format == cliout.Table {
			name = shortID(f.ResourceID)
		}
		rows = append(rows, []string{f.Severity, f.Kind, name, f.Message})
	}
	return writeRows(cmd, format, header, rows)
}

// writeRows writes a report's rows as a table or CSV.
func writeRows(cmd *cobra.Command, format cliout.Format, header []string, rows [][]string) error {
	if format == formatCSV {
		w := csv.NewWriter(cmd.OutOrStdout())
		w.Write(header)
		w.WriteAll(rows)
		return w.Error()
	}
	if len(rows) == 0 {
		fmt.Fprintln(cmd.OutOrStdout(), "Nothing to report.")
		return nil
	}
	return cliout.WriteTable(cmd.OutOrStdout(), header, rows)
}

// shortID keeps the last type/name pairs of a resource ID readable in a
// table: ".../networkInterfaces/web1".
func shortID(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) <= 4 {
		return id
	}
	return ".../" + strings.Join(parts[len(parts)-4:], "/")
}
