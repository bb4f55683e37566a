package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/vending"
)

func init() {
	register(newRGCmd)
	register(newVendingCmd)
}

func newRGCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rg",
		Short: "Ask for resource groups from the vending service (Resource Group as a Service)",
		Long: `rg asks Steward's vending service for resource groups: the group is created with
its tags, role assignments, policies and lock, by the subscription's execution
context, within what the catalog allows you (see "steward rg options").`,
	}
	request := &cobra.Command{Use: "request NAME", Short: "Request a resource group", Args: cobra.ExactArgs(1), RunE: runRGRequest,
		Example: `  steward rg request web --subscription-id 00000000-0000-0000-0000-000000000001 \
    --environment dev --cost-center cc1 --region westeurope --tag Owner=team-a --wait`}
	f := request.Flags()
	f.String("subscription-id", "", "subscription to create the group in (required)")
	f.String("environment", "", "environment (required)")
	f.String("cost-center", "", "cost center (required)")
	f.String("region", "", "region (required)")
	f.StringArray("tag", nil, "tag NAME=VALUE from the subscription's catalog (repeatable)")
	f.String("request-id", "", "client request ID: repeating a request with the same ID is the same request")
	f.Bool("wait", false, "wait until the request succeeds or fails")
	list := &cobra.Command{Use: "list", Short: "List your requests", Args: cobra.NoArgs, RunE: runRGList,
		Example: "  steward rg list\n  steward rg list -o json"}
	status := &cobra.Command{Use: "status ID", Short: "Show a request's status", Args: cobra.ExactArgs(1), RunE: runRGStatus,
		Example: "  steward rg status 3f2a9c0d5e6b7a8c9d0e1f2a -o json"}
	options := &cobra.Command{Use: "options [SUBSCRIPTION]", Short: "List the subscriptions you may ask in, or a subscription's environments, cost centers and regions",
		Args: cobra.MaximumNArgs(1), RunE: runRGOptions,
		Example: "  steward rg options\n  steward rg options 00000000-0000-0000-0000-000000000001 -o json"}
	requests := &cobra.Command{Use: "requests", Short: "List your requests and those waiting for your approval", Args: cobra.NoArgs, RunE: runRGRequests,
		Example: "  steward rg requests --pending\n  steward rg requests -o json"}
	requests.Flags().Bool("pending", false, "only requests waiting for approval")
	approve := &cobra.Command{Use: "approve ID", Short: "Approve a request waiting for approval (approver group members, after a recent MFA sign-in)",
		Args: cobra.ExactArgs(1), RunE: runRGDecide(true), Example: `  steward rg approve 3f2a9c0d5e6b7a8c9d0e1f2a --reason "change 42"`}
	reject := &cobra.Command{Use: "reject ID", Short: "Reject a request waiting for approval (approver group members, after a recent MFA sign-in)",
		Args: cobra.ExactArgs(1), RunE: runRGDecide(false), Example: `  steward rg reject 3f2a9c0d5e6b7a8c9d0e1f2a --reason "use dev first"`}
	for _, c := range []*cobra.Command{approve, reject} {
		c.Flags().String("reason", "", "why, recorded with the decision")
	}
	for _, c := range []*cobra.Command{request, list, status, options, requests, approve, reject} {
		addAPIFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func newVendingCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "vending", Short: "Administer the vending service (platform team)"}
	catalog := &cobra.Command{Use: "catalog", Short: "The vending catalog: supported subscriptions and who may ask for what"}
	subAdd := &cobra.Command{Use: "add FILE", Short: "Add or replace a supported subscription from a JSON file", Args: cobra.ExactArgs(1), RunE: runCatalogSubscriptionAdd,
		Example: `  cat > sub.json <<'JSON'
  {"subscriptionId": "00000000-0000-0000-0000-000000000001",
   "executionContext": {"tenantId": "...", "clientId": "...", "vaultUrl": "https://exec.vault.azure.net", "certificateName": "exec"},
   "tags": [{"name": "Owner", "required": true}],
   "roleAssignments": [{"principalId": "GROUP-ID", "principalType": "Group",
     "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"}],
   "naming": "rg-{env}-{costCenter}-{name}", "deleteLock": true}
  JSON
  steward vending catalog subscription add sub.json`}
	authAdd := &cobra.Command{Use: "add", Short: "Let a user or group ask for groups in a subscription", Args: cobra.NoArgs, RunE: runCatalogAuthorizationAdd,
		Example: `  steward vending catalog authorization add --principal GROUP-OR-USER-ID \
    --subscription-id 00000000-0000-0000-0000-000000000001 --cost-center cc1 --environment dev --environment test --region westeurope`}
	af := authAdd.Flags()
	af.String("principal", "", "object ID of the user or group (required)")
	af.String("subscription-id", "", "subscription (required)")
	af.StringArray("cost-center", nil, "allowed cost center (repeatable, required)")
	af.StringArray("environment", nil, "allowed environment (repeatable, required)")
	af.StringArray("region", nil, "allowed region (repeatable, required)")
	list := &cobra.Command{Use: "list", Short: "List the catalog", Args: cobra.NoArgs, RunE: runCatalogList,
		Example: "  steward vending catalog list\n  steward vending catalog list -o json"}
	subCmd := &cobra.Command{Use: "subscription", Short: "Supported subscriptions, with their execution context and what new groups get"}
	authCmd := &cobra.Command{Use: "authorization", Short: "Who may ask for groups: a user or group, a subscription, cost centers, environments, regions"}
	for parent, c := range map[*cobra.Command]*cobra.Command{subCmd: subAdd, authCmd: authAdd, catalog: list} {
		addAPIFlags(c)
		parent.AddCommand(c)
	}
	catalog.AddCommand(subCmd, authCmd)
	consent := &cobra.Command{Use: "consent", Short: "Consent to the vending internal API in another tenant, for that tenant's subscriptions",
		Long: `consent gives the vending service's internal identity (a multi-tenant application)
a service principal in another tenant, as that tenant's administrator consenting
to it does, and prints its object ID there: give that principal Key Vault Crypto
User and Key Vault Certificate User on the vault of each execution context of
that tenant's subscriptions.`,
		Args: cobra.NoArgs, RunE: runVendingConsent,
		Example: `  steward vending consent --tenant-id 00000000-0000-0000-0000-0000000000f1
  steward vending consent --tenant-id 00000000-0000-0000-0000-0000000000f1 -o json`}
	consent.Flags().String("tenant-id", "", "the other tenant (required)")
	addAPIFlags(consent)
	cmd.AddCommand(catalog, consent)
	return cmd
}

func runVendingConsent(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	tenant, err := requireFlag(cmd, "tenant-id")
	if err != nil {
		return err
	}
	var out map[string]string
	if _, err := vendingCall(cmd, http.MethodPost, vending.ConsentPath, map[string]string{"tenantId": tenant}, &out, nil); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), out)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"TENANT", "INTERNAL API PRINCIPAL"}, [][]string{{out["tenantId"], out["principalId"]}})
}

// vendingCall calls the vending API with the command's credential (a token
// for the vending API's audience) and decodes the answer into out.
func vendingCall(cmd *cobra.Command, method, path string, body, out any, hdr map[string]string) (http.Header, error) {
	c, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimSuffix(c.opts.Cloud.Services[azcloud.ResourceManager].Endpoint, "/")
	if !strings.HasPrefix(path, "https://") {
		path = endpoint + path
	}
	pl := runtime.NewPipeline("steward", version, runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(c.cred, []string{server.VendingAudience + "/.default"}, nil)},
	}, &c.opts.ClientOptions)
	req, err := runtime.NewRequest(cmd.Context(), method, path)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Raw().Header.Set(k, v)
	}
	if body != nil {
		b, _ := json.Marshal(body)
		if err := req.SetBody(streamingNopCloser(b), "application/json"); err != nil {
			return nil, err
		}
	}
	resp, err := pl.Do(req)
	if err != nil {
		return nil, &exitError{code: exitUnreachable, msg: "error: " + err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return nil, apiError(runtime.NewResponseError(resp))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("reading the answer: %w", err)
		}
	}
	return resp.Header, nil
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func streamingNopCloser(b []byte) readSeekNopCloser { return readSeekNopCloser{bytes.NewReader(b)} }

// vendingList follows nextLink.
func vendingList[T any](cmd *cobra.Command, path string) ([]T, error) {
	var all []T
	for path != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if _, err := vendingCall(cmd, http.MethodGet, path, nil, &page, nil); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		path = page.NextLink
	}
	if all == nil {
		all = []T{}
	}
	return all, nil
}

func runRGRequest(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	req := vending.Request{Name: args[0]}
	// In a fixed order, so the first missing flag is the one named.
	for _, f := range []struct {
		flag string
		dst  *string
	}{{"subscription-id", &req.SubscriptionID}, {"environment", &req.Environment}, {"cost-center", &req.CostCenter}, {"region", &req.Region}} {
		if *f.dst, err = requireFlag(cmd, f.flag); err != nil {
			return err
		}
	}
	tags, _ := cmd.Flags().GetStringArray("tag")
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return usageError("--tag %q: use NAME=VALUE", t)
		}
		if req.Tags == nil {
			req.Tags = map[string]string{}
		}
		req.Tags[k] = v
	}
	hdr := map[string]string{}
	if id, _ := cmd.Flags().GetString("request-id"); id != "" {
		hdr["x-ms-client-request-id"] = id
	}
	var rec vending.Record
	h, err := vendingCall(cmd, http.MethodPost, vending.PublicPrefix+"resourceGroups", req, &rec, hdr)
	if err != nil {
		return err
	}
	if wait, _ := cmd.Flags().GetBool("wait"); wait {
		for rec.Status == vending.StatusRunning {
			select {
			case <-cmd.Context().Done():
				return cmd.Context().Err()
			case <-time.After(500 * time.Millisecond):
			}
			if _, err := vendingCall(cmd, http.MethodGet, h.Get("Location"), nil, &rec, nil); err != nil {
				return err
			}
		}
	}
	if err := printRecords(cmd, format, []vending.Record{rec}, false); err != nil {
		return err
	}
	if rec.Status == vending.StatusFailed {
		return &exitError{code: exitNo, msg: "error: the request failed: " + rec.Error.Message}
	}
	return nil
}

func runRGList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	recs, err := vendingList[vending.Record](cmd, vending.PublicPrefix+"requests")
	if err != nil {
		return err
	}
	return printRecords(cmd, format, recs, true)
}

func runRGStatus(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var rec vending.Record
	if _, err := vendingCall(cmd, http.MethodGet, vending.PublicPrefix+"requests/"+args[0], nil, &rec, nil); err != nil {
		return err
	}
	return printRecords(cmd, format, []vending.Record{rec}, false)
}

func runRGRequests(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	recs, err := vendingList[vending.Record](cmd, vending.PublicPrefix+"requests")
	if err != nil {
		return err
	}
	if pending, _ := cmd.Flags().GetBool("pending"); pending {
		kept := recs[:0]
		for _, r := range recs {
			if r.Status == vending.StatusPending {
				kept = append(kept, r)
			}
		}
		recs = kept
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), recs)
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, []string{r.ID, r.Status, r.Caller, r.Request.Environment, r.Group, r.Approvers})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"ID", "STATUS", "REQUESTED BY", "ENVIRONMENT", "RESOURCE GROUP", "APPROVER GROUP"}, rows)
}

func runRGDecide(approve bool) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(cmd)
		if err != nil {
			return err
		}
		verb := "reject"
		if approve {
			verb = "approve"
		}
		reason, _ := cmd.Flags().GetString("reason")
		var rec vending.Record
		if _, err := vendingCall(cmd, http.MethodPost, vending.PublicPrefix+"requests/"+args[0]+"/"+verb, map[string]string{"reason": reason}, &rec, nil); err != nil {
			return err
		}
		return printRecords(cmd, format, []vending.Record{rec}, false)
	}
}

func printRecords(cmd *cobra.Command, format cliout.Format, recs []vending.Record, list bool) error {
	if format == cliout.JSON {
		if !list && len(recs) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), recs[0])
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), recs)
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		msg := ""
		if r.Error != nil {
			msg = r.Error.Message
		}
		rows = append(rows, []string{r.ID, r.Status, r.Group, r.Created.Format(time.RFC3339), msg})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"ID", "STATUS", "RESOURCE GROUP", "CREATED", "ERROR"}, rows)
}

func runRGOptions(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		subs, err := vendingList[map[string]string](cmd, vending.PublicPrefix+"subscriptions")
		if err != nil {
			return err
		}
		if format == cliout.JSON {
			return cliout.WriteJSON(cmd.OutOrStdout(), subs)
		}
		rows := make([][]string, 0, len(subs))
		for _, s := range subs {
			rows = append(rows, []string{s["subscriptionId"], s["displayName"]})
		}
		return cliout.WriteTable(cmd.OutOrStdout(), []string{"SUBSCRIPTION", "NAME"}, rows)
	}
	out := map[string][]string{}
	for _, what := range []string{"environments", "costCenters", "regions"} {
		if out[what], err = vendingList[string](cmd, vending.PublicPrefix+"subscriptions/"+args[0]+"/"+what); err != nil {
			return err
		}
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), out)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"ENVIRONMENTS", "COST CENTERS", "REGIONS"},
		[][]string{{strings.Join(out["environments"], ","), strings.Join(out["costCenters"], ","), strings.Join(out["regions"], ",")}})
}

func runCatalogSubscriptionAdd(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return usageError("%v", err)
	}
	var s vending.Subscription
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return usageError("%s: %v", args[0], err)
	}
	if _, err := vendingCall(cmd, http.MethodPut, vending.CatalogPath+"/subscriptions", s, &s, nil); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), s)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Subscription %s is in the catalog.\n", s.ID)
	return nil
}

func runCatalogAuthorizationAdd(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var a vending.Authorization
	if a.PrincipalID, err = requireFlag(cmd, "principal"); err != nil {
		return err
	}
	if a.SubscriptionID, err = requireFlag(cmd, "subscription-id"); err != nil {
		return err
	}
	a.CostCenters, _ = cmd.Flags().GetStringArray("cost-center")
	a.Environments, _ = cmd.Flags().GetStringArray("environment")
	a.Regions, _ = cmd.Flags().GetStringArray("region")
	if _, err := vendingCall(cmd, http.MethodPut, vending.CatalogPath+"/authorizations", a, &a, nil); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), a)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s may ask for groups in %s.\n", a.PrincipalID, a.SubscriptionID)
	return nil
}

func runCatalogList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	var cat struct {
		Subscriptions  []vending.Subscription  `json:"subscriptions"`
		Authorizations []vending.Authorization `json:"authorizations"`
	}
	if _, err := vendingCall(cmd, http.MethodGet, vending.CatalogPath, nil, &cat, nil); err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), cat)
	}
	var rows [][]string
	for _, s := range cat.Subscriptions {
		rows = append(rows, []string{"subscription", s.ID, s.DisplayName, s.Execution.ClientID, ""})
	}
	for _, a := range cat.Authorizations {
		rows = append(rows, []string{"authorization", a.SubscriptionID, a.PrincipalID, "",
			"cc=" + strings.Join(a.CostCenters, ",") + " env=" + strings.Join(a.Environments, ",") + " region=" + strings.Join(a.Regions, ",")})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"KIND", "SUBSCRIPTION", "NAME / PRINCIPAL", "EXECUTION CLIENT", "ALLOWS"}, rows)
}
