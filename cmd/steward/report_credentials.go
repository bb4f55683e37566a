package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/identity/graph"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/reports"
)

// credentialsLogType is the Data Collector log type of the credential
// report: its rows land in StewardCredentials_CL.
const credentialsLogType = "StewardCredentials"

func newReportCredentialsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Age and expiry of every vault secret, key and certificate and every application credential",
		Long: `credentials inventories what identities sign in and encrypt with: every secret,
key and certificate of every vault the administrator can list, and every
password and certificate credential of every application registration (through
Microsoft Graph). For each it gives the creation date, expiry, age in days and
flags: NoExpiry, Expired, ExpiresWithin30Days, OlderThan90Days,
ValidityOver12Months and, for keys and certificates, NoRotationPolicy.
Identifiers are masked to their first and last four characters. LAST USED of
an application secret or certificate is its last sign-in, from Graph's
credential sign-in report (it takes Reports Reader, Global Reader or Global
Administrator; without one, a warning and no last use).

With --workspace the rows are also sent to that Log Analytics workspace as
StewardCredentials_CL (the HTTP Data Collector API, as seed 002's key-age
report does), where KQL, alerts and charts read them.`,
		Example: `  steward report credentials
  steward report credentials -o json --fail-on medium
  steward report credentials --workspace /subscriptions/SUB/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/ops`,
		Args: cobra.NoArgs,
		RunE: runReportCredentials,
	}
	addAPIFlags(cmd)
	cmd.Flags().String("fail-on", reports.High, "exit 1 when a finding is at least this severe: high, medium, low or none")
	cmd.Flags().String("workspace", "", "also upload the rows to this Log Analytics workspace (resource ID)")
	cmd.Flags().String("vault-name", "", "")
	_ = cmd.Flags().MarkHidden("vault-name")
	return cmd
}

func runReportCredentials(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd, reportFormats...)
	if err != nil {
		return usageError("%v", err)
	}
	failOn, _ := cmd.Flags().GetString("fail-on")
	if _, ok := severityRank[failOn]; !ok {
		return usageError("--fail-on %q: want high, medium, low or none", failOn)
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var creds []reports.Credential
	vaults, err := listVaults(ctx, api)
	if err != nil {
		return err
	}
	for _, v := range vaults {
		_ = cmd.Flags().Set("vault-name", v)
		got, err := vaultCredentials(cmd, v)
		if err != nil {
			return err
		}
		creds = append(creds, got...)
	}
	apps, err := appCredentials(cmd)
	if err != nil {
		return err
	}
	creds = append(creds, apps...)
	rows := reports.AssessCredentials(creds, time.Now())
	if ws, _ := cmd.Flags().GetString("workspace"); ws != "" {
		if err := uploadCredentials(cmd, api, ws, rows); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Sent %d rows to %s as %s_CL.\n", len(rows), ws, credentialsLogType)
	}
	if format == formatSARIF {
		// SARIF carries findings, not the inventory.
		if err := printFindings(cmd, format, reports.CredentialFindings(rows)); err != nil {
			return err
		}
	} else if err := printCredentialRows(cmd, format, rows); err != nil {
		return err
	}
	for _, f := range reports.CredentialFindings(rows) {
		if severityRank[f.Severity] >= severityRank[failOn] {
			return &exitError{code: exitNo}
		}
	}
	return nil
}

// severityRank orders severities for --fail-on.
var severityRank = map[string]int{reports.Low: 1, reports.Medium: 2, reports.High: 3, "none": 4}

func listVaults(ctx context.Context, api *apiClient) ([]string, error) {
	c, err := armresources.NewClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	var names []string
	p := c.NewListPager(&armresources.ClientListOptions{Filter: to.Ptr("resourceType eq 'Microsoft.KeyVault/vaults'")})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError(err)
		}
		for _, r := range page.Value {
			names = append(names, deref(r.Name))
		}
	}
	return names, nil
}

// vaultCredentials lists one vault's secrets, keys and certificates.
func vaultCredentials(cmd *cobra.Command, vault string) ([]reports.Credential, error) {
	conn, err := connectVault(cmd)
	if err != nil {
		return nil, err
	}
	out, err := reports.VaultCredentials(cmd.Context(), conn.url, vault, conn.cred, conn.opts)
	if err != nil {
		return nil, apiError(err)
	}
	return out, nil
}

// appCredentials lists the password and certificate credentials of every
// application registration through Microsoft Graph.
func appCredentials(cmd *cobra.Command) ([]reports.Credential, error) {
	g, err := newGraphClient(cmd)
	if err != nil {
		return nil, err
	}
	apps, err := g.list(cmd.Context(), "/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials")
	if err != nil {
		return nil, err
	}
	creds := reports.AppCredentials(apps)
	// Last use comes from Graph's credential sign-in report (beta), which
	// takes Reports Reader or Global Reader: without it the inventory
	// stands, with a warning that LastUsed is unknown.
	activity, err := g.list(cmd.Context(), "//"+strings.TrimPrefix(graph.MountPath, "/")+"/beta/reports/appCredentialSignInActivities")
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: no last use of application credentials: %v\n", err)
		return creds, nil
	}
	last := reports.LastUsedByScope(reports.CredentialSignIns(activity))
	for i := range creds {
		if creds[i].Scope != "" {
			creds[i].LastUsed = last(creds[i].Scope)
		}
	}
	return creds, nil
}

// uploadCredentials posts the rows to a workspace with the HTTP Data
// Collector API, signed with the workspace's primary key, as seed 002's
// key-age report does.
func uploadCredentials(cmd *cobra.Command, api *apiClient, workspace string, rows []reports.CredentialRow) error {
	ctx := cmd.Context()
	client, err := azarm.NewClient("steward-reports", "v1.0.0", api.cred, api.opts)
	if err != nil {
		return err
	}
	call := func(method, path, apiVersion string, out any) error {
		req, err := runtime.NewRequest(ctx, method, runtime.JoinPaths(client.Endpoint(), path)+"?api-version="+apiVersion)
		if err != nil {
			return err
		}
		resp, err := client.Pipeline().Do(req)
		if err != nil {
			return unreachable(err)
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return apiError(runtime.NewResponseError(resp))
		}
		return runtime.UnmarshalAsJSON(resp, out)
	}
	var ws struct {
		Properties struct {
			CustomerID string `json:"customerId"`
		} `json:"properties"`
	}
	if err := call(http.MethodGet, workspace, "2022-10-01", &ws); err != nil {
		return err
	}
	var keys struct {
		Primary string `json:"primarySharedKey"`
	}
	if err := call(http.MethodPost, workspace+"/sharedKeys", "2020-08-01", &keys); err != nil {
		return err
	}
	if ws.Properties.CustomerID == "" || keys.Primary == "" {
		return usageError("%s is not a Log Analytics workspace with a customerId and keys", workspace)
	}
	body, _ := json.Marshal(rows)
	date := time.Now().UTC().Format(http.TimeFormat)
	sig, err := logs.Signature(keys.Primary, http.MethodPost, int64(len(body)), "application/json", date)
	if err != nil {
		return err
	}
	req, err := runtime.NewRequest(ctx, http.MethodPost, runtime.JoinPaths(client.Endpoint(), "/ods/"+ws.Properties.CustomerID+"/api/logs")+"?api-version=2016-04-01")
	if err != nil {
		return err
	}
	req.Raw().Header.Set("Log-Type", credentialsLogType)
	req.Raw().Header.Set("x-ms-date", date)
	req.Raw().Header.Set("Authorization", "SharedKey "+ws.Properties.CustomerID+":"+sig)
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
		return err
	}
	// The Data Collector API authenticates with the signature, not a
	// bearer token: send it with the transport alone.
	var hc policy.Transporter = http.DefaultClient
	if api.opts.Transport != nil {
		hc = api.opts.Transport
	}
	resp, err := hc.Do(req.Raw())
	if err != nil {
		return unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("error: the workspace refused the rows: HTTP %d", resp.StatusCode)}
	}
	return nil
}

func printCredentialRows(cmd *cobra.Command, format cliout.Format, rows []reports.CredentialRow) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), rows)
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format("2006-01-02")
	}
	header := []string{"KIND", "OWNER", "NAME", "ID", "CREATED", "EXPIRES", "LAST USED", "AGE", "FLAGS"}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, []string{r.Kind, r.Owner, r.Name, r.MaskedID, day(r.CreateDate), day(r.ExpiryDate), day(r.LastUsed), fmt.Sprint(r.Age), strings.Join(r.Flags, ",")})
	}
	return writeRows(cmd, format, header, out)
}
