package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/server"
)

func init() { register(newLogsCmd) }

// API versions the logs commands use on the management API.
const (
	workspaceAPIVersion  = "2022-10-01"
	sharedKeysAPIVersion = "2020-08-01"
)

func newLogsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Log Analytics workspaces: create, ingest, query",
		Long: `logs manages Log Analytics workspaces in a running Steward (or Azure) and
moves data in and out of them:

  steward logs workspace create gov -g monitoring -l westeurope
  steward logs ingest records.json --workspace gov -g monitoring --log-type PolicyStates
  steward logs query 'PolicyStates_CL | summarize count() by Policy_s' --workspace gov -g monitoring

ingest posts a JSON array of records through the HTTP Data Collector API (table
LOG_TYPE_CL, columns typed by suffix); query runs KQL through the query API and
prints a table, or with --output json the API's response. --workspace takes a
workspace name (with -g) or its customerId.`,
	}
	ws := &cobra.Command{Use: "workspace", Short: "Create, list, show and delete workspaces"}
	create := &cobra.Command{Use: "create NAME", Short: "Create or update a workspace", Args: cobra.ExactArgs(1), RunE: runWorkspaceCreate}
	create.Flags().StringP("location", "l", "", "location, such as westeurope (required)")
	create.Flags().Int("retention", 0, "retention in days (default 30)")
	list := &cobra.Command{Use: "list", Short: "List workspaces", Args: cobra.NoArgs, RunE: runWorkspaceList}
	show := &cobra.Command{Use: "show NAME", Short: "Show a workspace with its customerId", Args: cobra.ExactArgs(1), RunE: runWorkspaceShow}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a workspace and its tables", Args: cobra.ExactArgs(1), RunE: runWorkspaceDelete}
	for _, c := range []*cobra.Command{create, list, show, del} {
		addAPIFlags(c)
		c.Flags().StringP("resource-group", "g", "", "resource group")
		ws.AddCommand(c)
	}
	ingest := &cobra.Command{Use: "ingest FILE", Short: "Post a JSON array of records (- for standard input)", Args: cobra.ExactArgs(1), RunE: runLogsIngest}
	ingest.Flags().String("log-type", "", "record type: the table is LOG_TYPE_CL (required)")
	ingest.Flags().String("time-generated-field", "", "field whose value becomes TimeGenerated")
	q := &cobra.Command{Use: "query QUERY", Short: "Run a KQL query on a workspace (- reads it from standard input)", Args: cobra.ExactArgs(1), RunE: runLogsQuery}
	q.Flags().Duration("timeout", 3*time.Minute, "server-side wait")
	addWorkspaceQueryFlags(q)
	addAPIFlags(ingest)
	ingest.Flags().StringP("resource-group", "g", "", "resource group of --workspace")
	ingest.Flags().StringP("workspace", "w", "", "workspace name (with -g) or customerId (required)")
	cmd.AddCommand(ws, ingest, q)
	return cmd
}

// logsClient calls the management API and the logs data plane of one
// Steward.
type logsClient struct {
	api *apiClient
	arm *azarm.Client
}

func newLogsClient(cmd *cobra.Command) (*logsClient, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	c, err := azarm.NewClient("steward-logs", "v1.0.0", api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	return &logsClient{api: api, arm: c}, nil
}

// base is Steward's base URL (the ARM endpoint, where the data plane is
// mounted too).
func (c *logsClient) base() string { return strings.TrimSuffix(c.arm.Endpoint(), "/") }

// do sends one ARM request and decodes the JSON answer.
func (c *logsClient) do(ctx context.Context, method, path, apiVersion string, body any) (map[string]any, error) {
	req, err := runtime.NewRequest(ctx, method, c.base()+path+"?api-version="+apiVersion)
	if err != nil {
		return nil, err
	}
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			return nil, err
		}
	}
	resp, err := c.arm.Pipeline().Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusCreated) {
		return nil, apiError(runtime.NewResponseError(resp))
	}
	var out map[string]any
	if err := runtime.UnmarshalAsJSON(resp, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *logsClient) workspaceID(cmd *cobra.Command, name string) (string, error) {
	rg, _ := cmd.Flags().GetString("resource-group")
	if rg == "" {
		return "", fmt.Errorf("--resource-group is required")
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s", c.api.subscription, rg, logs.TypeWorkspace, name), nil
}

// workspace is the part of a workspace resource the commands show.
type workspace struct {
	Name            string `json:"name"`
	ID              string `json:"id"`
	Location        string `json:"location"`
	CustomerID      string `json:"customerId"`
	RetentionInDays int    `json:"retentionInDays"`
}

func toWorkspace(doc map[string]any) workspace {
	p, _ := doc["properties"].(map[string]any)
	w := workspace{}
	w.Name, _ = doc["name"].(string)
	w.ID, _ = doc["id"].(string)
	w.Location, _ = doc["location"].(string)
	w.CustomerID, _ = p["customerId"].(string)
	if f, ok := p["retentionInDays"].(float64); ok {
		w.RetentionInDays = int(f)
	}
	return w
}

func printWorkspaces(cmd *cobra.Command, format cliout.Format, ws []workspace, list bool) error {
	out := cmd.OutOrStdout()
	if format == cliout.JSON {
		if list {
			return cliout.WriteJSON(out, ws)
		}
		return cliout.WriteJSON(out, ws[0])
	}
	rows := make([][]string, len(ws))
	for i, w := range ws {
		rows[i] = []string{w.Name, w.Location, w.CustomerID, fmt.Sprint(w.RetentionInDays)}
	}
	return cliout.WriteTable(out, []string{"NAME", "LOCATION", "CUSTOMER ID", "RETENTION"}, rows)
}

func runWorkspaceCreate(cmd *cobra.Command, args []string) error {
	loc, _ := cmd.Flags().GetString("location")
	if loc == "" {
		return fmt.Errorf("--location is required")
	}
	props := map[string]any{}
	if r, _ := cmd.Flags().GetInt("retention"); r > 0 {
		props["retentionInDays"] = r
	}
	return oneWorkspace(cmd, args[0], http.MethodPut, map[string]any{"location": loc, "properties": props})
}

func runWorkspaceShow(cmd *cobra.Command, args []string) error {
	return oneWorkspace(cmd, args[0], http.MethodGet, nil)
}

// oneWorkspace sends method to the workspace name of --resource-group and
// prints the workspace it answers with.
func oneWorkspace(cmd *cobra.Command, name, method string, body any) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := newLogsClient(cmd)
	if err != nil {
		return err
	}
	id, err := c.workspaceID(cmd, name)
	if err != nil {
		return err
	}
	doc, err := c.do(cmd.Context(), method, id, workspaceAPIVersion, body)
	if err != nil {
		return err
	}
	return printWorkspaces(cmd, format, []workspace{toWorkspace(doc)}, false)
}

func runWorkspaceList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := newLogsClient(cmd)
	if err != nil {
		return err
	}
	// The resources list finds workspaces in every group; each is read
	// for its properties (lists carry none).
	path := "/subscriptions/" + c.api.subscription
	if rg, _ := cmd.Flags().GetString("resource-group"); rg != "" {
		path += "/resourceGroups/" + rg
	}
	filter := url.QueryEscape("resourceType eq '" + logs.TypeWorkspace + "'")
	items, err := armList(cmd.Context(), c.arm, c.base()+path+"/resources?api-version=2021-04-01&$filter="+filter)
	if err != nil {
		return err
	}
	var out []workspace
	for _, m := range items {
		id, _ := m["id"].(string)
		doc, err := c.do(cmd.Context(), http.MethodGet, id, workspaceAPIVersion, nil)
		if err != nil {
			return err
		}
		out = append(out, toWorkspace(doc))
	}
	return printWorkspaces(cmd, format, out, true)
}

// resolveWorkspace returns the customerId (and resource ID when known) of
// --workspace.
func (c *logsClient) resolveWorkspace(cmd *cobra.Command) (customerID, id string, err error) {
	name, _ := cmd.Flags().GetString("workspace")
	if name == "" {
		return "", "", fmt.Errorf("--workspace is required")
	}
	if len(name) == 36 && strings.Count(name, "-") == 4 {
		return name, "", nil
	}
	if id, err = c.workspaceID(cmd, name); err != nil {
		return "", "", err
	}
	doc, err := c.do(cmd.Context(), http.MethodGet, id, workspaceAPIVersion, nil)
	if err != nil {
		return "", "", err
	}
	return toWorkspace(doc).CustomerID, id, nil
}

func readArg(arg string, limit int64) ([]byte, error) {
	if arg == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, limit+1))
	}
	return os.ReadFile(arg)
}

func runLogsIngest(cmd *cobra.Command, args []string) error {
	if _, err := outputFormat(cmd); err != nil {
		return err
	}
	logType, _ := cmd.Flags().GetString("log-type")
	if logType == "" {
		return fmt.Errorf("--log-type is required")
	}
	body, err := readArg(args[0], logs.MaxCollectorBody)
	if err != nil {
		return err
	}
	c, err := newLogsClient(cmd)
	if err != nil {
		return err
	}
	cid, id, err := c.resolveWorkspace(cmd)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("ingest needs the workspace's name and -g, to read its shared key")
	}
	keys, err := c.do(cmd.Context(), http.MethodPost, id+"/sharedKeys", sharedKeysAPIVersion, nil)
	if err != nil {
		return err
	}
	key, _ := keys["primarySharedKey"].(string)
	date := time.Now().UTC().Format(http.TimeFormat)
	sig, err := logs.Signature(key, http.MethodPost, int64(len(body)), "application/json", date)
	if err != nil {
		return err
	}
	req, err := runtime.NewRequest(cmd.Context(), http.MethodPost,
		c.base()+server.LogsCollectorPrefix+cid+"/api/logs?api-version="+logs.CollectorAPIVersion)
	if err != nil {
		return err
	}
	h := req.Raw().Header
	h.Set("Content-Type", "application/json")
	h.Set("Log-Type", logType)
	h.Set("x-ms-date", date)
	h.Set("Authorization", "SharedKey "+cid+":"+sig)
	if f, _ := cmd.Flags().GetString("time-generated-field"); f != "" {
		h.Set("time-generated-field", f)
	}
	if err := req.SetBody(streamingBody(body), "application/json"); err != nil {
		return err
	}
	// A plain pipeline: the Data Collector API authenticates with the
	// signature, not a bearer token.
	pl := runtime.NewPipeline("steward-logs", "v1.0.0", runtime.PipelineOptions{}, &c.api.opts.ClientOptions)
	resp, err := pl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return apiError(runtime.NewResponseError(resp))
	}
	return printResult(cmd, actionResult{Name: logType + "_CL", Result: "posted", Detail: fmt.Sprintf("%d bytes", len(body))})
}

// addWorkspaceQueryFlags adds the flags queryWorkspace reads: the API
// flags, --workspace, --resource-group and --timespan (a command that
// also runs queries offline, such as kql, can add them and call
// queryWorkspace when --workspace is set).
func addWorkspaceQueryFlags(cmd *cobra.Command) {
	addAPIFlags(cmd)
	cmd.Flags().StringP("resource-group", "g", "", "resource group of --workspace")
	cmd.Flags().StringP("workspace", "w", "", "workspace name (with -g) or customerId")
	cmd.Flags().String("timespan", "", "ISO 8601 duration or interval, such as PT1H or 2026-01-01T00:00:00Z/P1D")
}

func runLogsQuery(cmd *cobra.Command, args []string) error {
	text := args[0]
	if text == "-" {
		b, err := readArg("-", 256<<10)
		if err != nil {
			return err
		}
		text = string(b)
	}
	return queryWorkspace(cmd, text)
}

// queryClient is the Logs query client of Steward's query API (/v1).
func (c *logsClient) queryClient() (*query.Client, error) {
	opts := &query.ClientOptions{ClientOptions: c.api.opts.ClientOptions}
	opts.Cloud = azcloud.Configuration{ActiveDirectoryAuthorityHost: opts.Cloud.ActiveDirectoryAuthorityHost,
		Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			query.ServiceName: {Audience: server.LogAnalyticsAudience, Endpoint: c.base() + "/v1"}}}
	return query.NewClient(c.api.cred, opts)
}

// queryWorkspace runs text through the query API of --workspace and
// prints the result as a table, or with --output json the API's response.
// The server-side wait is --timeout when the command has it.
func queryWorkspace(cmd *cobra.Command, text string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := newLogsClient(cmd)
	if err != nil {
		return err
	}
	cid, _, err := c.resolveWorkspace(cmd)
	if err != nil {
		return err
	}
	qc, err := c.queryClient()
	if err != nil {
		return err
	}
	body := query.QueryBody{Query: to.Ptr(text)}
	if ts, _ := cmd.Flags().GetString("timespan"); ts != "" {
		body.Timespan = to.Ptr(query.TimeInterval(ts))
	}
	var qopts *query.QueryWorkspaceOptions
	if timeout, _ := cmd.Flags().GetDuration("timeout"); timeout >= time.Second {
		qopts = &query.QueryWorkspaceOptions{Options: &query.QueryOptions{Wait: to.Ptr(int(timeout.Seconds()))}}
	}
	res, err := qc.QueryWorkspace(cmd.Context(), cid, body, qopts)
	if err != nil {
		return queryError(err)
	}
	out := cmd.OutOrStdout()
	if format == cliout.JSON {
		return cliout.WriteJSON(out, res.QueryResults)
	}
	tables := make([]resultTable, len(res.Tables))
	for k, t := range res.Tables {
		rt := resultTable{name: deref(t.Name), header: make([]string, len(t.Columns)), rows: make([][]string, len(t.Rows))}
		for i, col := range t.Columns {
			rt.header[i] = deref(col.Name)
		}
		for i, r := range t.Rows {
			cells := make([]string, len(r))
			for j, v := range r {
				cells[j] = cellText(v)
			}
			rt.rows[i] = cells
		}
		tables[k] = rt
	}
	if err := writeResultTables(out, tables); err != nil {
		return err
	}
	if res.Error != nil {
		return &exitError{code: 1, msg: "partial result: " + res.Error.Error()}
	}
	return nil
}

// cellText renders a JSON cell of the query API for a table.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64, bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// queryError shows the query API's error with its inner detail (the
// syntax error's line and position).
func queryError(err error) error {
	var re *azcore.ResponseError
	if !asResponseError(err, &re) {
		return err
	}
	var body struct {
		Error struct {
			Code, Message string
			Innererror    struct {
				Code, Message string
				Line, Pos     int
			}
		}
	}
	if re.RawResponse != nil {
		_ = json.NewDecoder(re.RawResponse.Body).Decode(&body)
	}
	in := body.Error.Innererror
	msg := fmt.Sprintf("error: %s (HTTP %d): %s", re.ErrorCode, re.StatusCode, in.Message)
	if in.Line > 0 {
		msg += fmt.Sprintf(" (line %d, position %d)", in.Line, in.Pos)
	}
	return &exitError{code: responseExit(re.StatusCode), msg: msg}
}
