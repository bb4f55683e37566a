package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/identity/graph"
)

func init() { register(newIdentityCmd) }

// graphClient calls Steward's Microsoft Graph with the CLI's credential.
type graphClient struct {
	base   string // "https://host:port/graph/v1.0"
	root   string // "https://host:port"
	token  string
	client interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func newGraphClient(cmd *cobra.Command) (*graphClient, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimSuffix(api.opts.Cloud.Services[cloud.ResourceManager].Endpoint, "/")
	if endpoint == "" {
		return nil, &exitError{code: 2, msg: "no management endpoint: set AZURE_RESOURCE_MANAGER_ENDPOINT or pass --data"}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	tok, err := api.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph.DefaultResource + "/.default"}})
	if err != nil {
		return nil, unreachable(err)
	}
	g := &graphClient{base: endpoint + graph.MountPath + "/" + graph.Version, root: endpoint, token: tok.Token, client: http.DefaultClient}
	if api.opts.Transport != nil {
		g.client = api.opts.Transport
	}
	return g, nil
}

// unreachable maps a transport failure to exit status 3.
func unreachable(err error) error {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) || strings.Contains(err.Error(), "connection refused") {
		return &exitError{code: 3, msg: "error: cannot reach Steward: " + err.Error()}
	}
	return &exitError{code: 1, msg: "error: " + err.Error()}
}

// graphError is a Graph error answer turned into the CLI's exit status:
// 2 for a request Steward found malformed, 1 for refused or not found.
func graphFail(status int, body []byte) error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Error.Message
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	code := 1
	if status == http.StatusBadRequest && e.Error.Code != "Request_ResourceNotFound" {
		code = 2
	}
	return &exitError{code: code, msg: fmt.Sprintf("error: %s (HTTP %d): %s", e.Error.Code, status, msg)}
}

// do sends a request to path (relative to the Graph base, or absolute
// from the host root when it starts with "//") and decodes the answer.
func (g *graphClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := g.base + path
	if rest, ok := strings.CutPrefix(path, "//"); ok {
		u = g.root + "/" + rest
	} else if strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://") {
		u = path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ConsistencyLevel", "eventual")
	resp, err := g.client.Do(req)
	if err != nil {
		return unreachable(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return unreachable(err)
	}
	if resp.StatusCode >= 300 {
		return graphFail(resp.StatusCode, b)
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// list reads every page of a collection.
func (g *graphClient) list(ctx context.Context, path string) ([]map[string]any, error) {
	var all []map[string]any
	for path != "" {
		var page struct {
			Value []map[string]any `json:"value"`
			Next  string           `json:"@odata.nextLink"`
		}
		if err := g.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		path = page.Next
	}
	return all, nil
}

func newIdentityCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage the directory (apps, service principals, groups, users) through Microsoft Graph",
		Long: `identity manages Steward's directory through its Microsoft Graph API
({endpoint}/graph/v1.0), as "az ad" does: app registrations and their
credentials, service principals, security groups and their members, users,
and directory roles. Credentials come from DATA/bootstrap.json, or from the
AZURE_* variables that "steward env" prints; the caller needs a directory
role (the bootstrap administrator is Global Administrator).`,
	}
	cmd.AddCommand(newIdentityAppCmd(), newIdentitySPCmd(), newIdentityGroupCmd(), newIdentityUserCmd(), newIdentityRoleCmd())
	return cmd
}

// leaf builds a subcommand with the API flags.
func leaf(use, short, example string, args cobra.PositionalArgs, run func(*cobra.Command, *graphClient, cliout.Format, []string) error) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Example: example, Args: args,
		RunE: func(cmd *cobra.Command, a []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			g, err := newGraphClient(cmd)
			if err != nil {
				return err
			}
			return run(cmd, g, format, a)
		}}
	addAPIFlags(c)
	return c
}

// printObjects writes objects as a table of columns, or as JSON.
func printObjects(cmd *cobra.Command, format cliout.Format, objs []map[string]any, single bool, cols ...string) error {
	if format == cliout.JSON {
		if single && len(objs) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), objs[0])
		}
		if objs == nil {
			objs = []map[string]any{}
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), objs)
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = strings.ToUpper(c)
	}
	rows := make([][]string, 0, len(objs))
	for _, o := range objs {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = cell(o[c])
		}
		rows = append(rows, row)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), header, rows)
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, cell(p))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// odataQuote quotes a string literal for $filter.
func odataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// filterPath appends $filter to a collection path.
func filterPath(path, filter string) string {
	if filter == "" {
		return path
	}
	return path + "?$filter=" + url.QueryEscape(filter)
}

// findApp resolves an application by object ID or app ID.
func (g *graphClient) findApp(ctx context.Context, id string) (map[string]any, error) {
	var out map[string]any
	err := g.do(ctx, http.MethodGet, "/applications(appId="+url.PathEscape(odataQuote(id))+")", nil, &out)
	if err == nil {
		return out, nil
	}
	if err2 := g.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(id), nil, &out); err2 == nil {
		return out, nil
	}
	return nil, err
}

func newIdentityAppCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "app", Short: "Manage app registrations"}
	cols := []string{"displayName", "appId", "id", "signInAudience", "identifierUris"}
	create := leaf("create NAME", "Register an application",
		`  steward identity app create billing
  steward identity app create collector --multi-tenant --identifier-uri api://collector -o json`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			body := map[string]any{"displayName": a[0]}
			if uris, _ := cmd.Flags().GetStringArray("identifier-uri"); len(uris) > 0 {
				body["identifierUris"] = uris
			}
			if multi, _ := cmd.Flags().GetBool("multi-tenant"); multi {
				body["signInAudience"] = "AzureADMultipleOrgs"
			}
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, "/applications", body, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, cols...)
		})
	create.Flags().StringArray("identifier-uri", nil, "identifier URI, such as api://billing (repeatable)")
	create.Flags().Bool("multi-tenant", false, "let other tenants create a service principal for the app (signInAudience AzureADMultipleOrgs)")
	list := leaf("list", "List app registrations",
		`  steward identity app list
  steward identity app list --filter "startswith(displayName,'team-')" -o json`,
		cobra.NoArgs, func(cmd *cobra.Command, g *graphClient, f cliout.Format, _ []string) error {
			filter, _ := cmd.Flags().GetString("filter")
			objs, err := g.list(cmd.Context(), filterPath("/applications", filter))
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, cols...)
		})
	list.Flags().String("filter", "", "OData $filter, such as \"displayName eq 'billing'\"")
	show := leaf("show ID|APPID", "Show an app registration", "  steward identity app show 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			app, err := g.findApp(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{app}, true, cols...)
		})
	del := leaf("delete ID|APPID", "Delete an app registration and its service principal", "  steward identity app delete 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			app, err := g.findApp(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return g.do(cmd.Context(), http.MethodDelete, "/applications/"+app["id"].(string), nil, nil)
		})
	secret := leaf("secret add ID|APPID", "Add a client secret (shown once)",
		`  steward identity app secret add 00000000-0000-0000-0000-000000000000 --name ci --days 90`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			app, err := g.findApp(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			name, _ := cmd.Flags().GetString("name")
			days, _ := cmd.Flags().GetInt("days")
			if days <= 0 {
				return &exitError{code: 2, msg: "--days must be positive"}
			}
			pc := map[string]any{"displayName": name, "endDateTime": time.Now().UTC().AddDate(0, 0, days).Format(time.RFC3339)}
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, "/applications/"+app["id"].(string)+"/addPassword", map[string]any{"passwordCredential": pc}, &out); err != nil {
				return err
			}
			out["appId"] = app["appId"]
			return printObjects(cmd, f, []map[string]any{out}, true, "appId", "keyId", "secretText", "endDateTime")
		})
	secret.Use = "add ID|APPID"
	secret.Flags().String("name", "", "display name of the secret")
	secret.Flags().Int("days", 365, "lifetime in days")
	secrets := &cobra.Command{Use: "secret", Short: "Manage an app's client secrets"}
	secrets.AddCommand(secret)
	fedAdd := leaf("add ID|APPID", "Trust an external OIDC issuer's tokens as the app's credential",
		`  steward identity app federated add 00000000-0000-0000-0000-000000000000 --name main \
    --issuer https://token.actions.githubusercontent.com --subject repo:contoso/app:ref:refs/heads/main`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			app, err := g.findApp(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			body := map[string]any{}
			for _, k := range []string{"name", "issuer", "subject", "description"} {
				if v, _ := cmd.Flags().GetString(k); v != "" {
					body[k] = v
				}
			}
			if aud, _ := cmd.Flags().GetString("audience"); aud != "" {
				body["audiences"] = []string{aud}
			}
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, "/applications/"+app["id"].(string)+"/federatedIdentityCredentials", body, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, "name", "issuer", "subject", "audiences")
		})
	fedAdd.Flags().String("name", "", "credential name (3 to 120 characters)")
	fedAdd.Flags().String("issuer", "", "issuer URL (https, or http on loopback)")
	fedAdd.Flags().String("subject", "", "subject (sub claim) the tokens must carry")
	fedAdd.Flags().String("audience", "", "audience (default api://AzureADTokenExchange)")
	fedAdd.Flags().String("description", "", "description")
	fedList := leaf("list ID|APPID", "List an app's federated identity credentials", "  steward identity app federated list 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			app, err := g.findApp(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			objs, err := g.list(cmd.Context(), "/applications/"+app["id"].(string)+"/federatedIdentityCredentials")
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, "name", "issuer", "subject", "audiences")
		})
	fed := &cobra.Command{Use: "federated", Short: "Manage an app's federated identity credentials (workload identity federation)"}
	fed.AddCommand(fedAdd, fedList)
	cmd.AddCommand(create, list, show, del, secrets, fed)
	return cmd
}

func newIdentitySPCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sp", Short: "Manage service principals"}
	cols := []string{"displayName", "appId", "id", "appOwnerOrganizationId", "accountEnabled"}
	create := leaf("create APPID", "Create the service principal of an application (for another tenant's multi-tenant app: consent)",
		"  steward identity sp create 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, "/servicePrincipals", map[string]any{"appId": a[0]}, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, cols...)
		})
	list := leaf("list", "List service principals", `  steward identity sp list --filter "displayName eq 'team-ci'"`,
		cobra.NoArgs, func(cmd *cobra.Command, g *graphClient, f cliout.Format, _ []string) error {
			filter, _ := cmd.Flags().GetString("filter")
			objs, err := g.list(cmd.Context(), filterPath("/servicePrincipals", filter))
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, cols...)
		})
	list.Flags().String("filter", "", "OData $filter, such as \"appId eq '...'\"")
	show := leaf("show ID|APPID", "Show a service principal", "  steward identity sp show 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			sp, err := g.findSP(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{sp}, true, cols...)
		})
	del := leaf("delete ID|APPID", "Delete a service principal", "  steward identity sp delete 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			sp, err := g.findSP(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return g.do(cmd.Context(), http.MethodDelete, "/servicePrincipals/"+sp["id"].(string), nil, nil)
		})
	cmd.AddCommand(create, list, show, del)
	return cmd
}

func (g *graphClient) findSP(ctx context.Context, id string) (map[string]any, error) {
	var out map[string]any
	err := g.do(ctx, http.MethodGet, "/servicePrincipals(appId="+url.PathEscape(odataQuote(id))+")", nil, &out)
	if err == nil {
		return out, nil
	}
	if err2 := g.do(ctx, http.MethodGet, "/servicePrincipals/"+url.PathEscape(id), nil, &out); err2 == nil {
		return out, nil
	}
	return nil, err
}

// findGroup resolves a group by object ID or display name.
func (g *graphClient) findGroup(ctx context.Context, id string) (map[string]any, error) {
	var out map[string]any
	err := g.do(ctx, http.MethodGet, "/groups/"+url.PathEscape(id), nil, &out)
	if err == nil {
		return out, nil
	}
	objs, lerr := g.list(ctx, filterPath("/groups", "displayName eq "+odataQuote(id)))
	if lerr != nil {
		return nil, lerr
	}
	switch len(objs) {
	case 0:
		return nil, err
	case 1:
		return objs[0], nil
	}
	return nil, &exitError{code: 2, msg: fmt.Sprintf("error: %d groups are named %q: use the object ID", len(objs), id)}
}

func newIdentityGroupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage security groups and their members"}
	cols := []string{"displayName", "id", "description"}
	create := leaf("create NAME", "Create a security group", `  steward identity group create team-a --description "Team A"`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			nick, _ := cmd.Flags().GetString("mail-nickname")
			if nick == "" {
				nick = strings.Map(func(r rune) rune {
					if r == ' ' || r == '@' {
						return '-'
					}
					return r
				}, a[0])
			}
			body := map[string]any{"displayName": a[0], "mailNickname": nick, "mailEnabled": false, "securityEnabled": true}
			if d, _ := cmd.Flags().GetString("description"); d != "" {
				body["description"] = d
			}
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, "/groups", body, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, cols...)
		})
	create.Flags().String("description", "", "description")
	create.Flags().String("mail-nickname", "", "mail nickname (default: the name)")
	list := leaf("list", "List groups", `  steward identity group list --filter "startswith(displayName,'team')"`,
		cobra.NoArgs, func(cmd *cobra.Command, g *graphClient, f cliout.Format, _ []string) error {
			filter, _ := cmd.Flags().GetString("filter")
			objs, err := g.list(cmd.Context(), filterPath("/groups", filter))
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, cols...)
		})
	list.Flags().String("filter", "", "OData $filter")
	show := leaf("show ID|NAME", "Show a group", "  steward identity group show team-a",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			grp, err := g.findGroup(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{grp}, true, cols...)
		})
	del := leaf("delete ID|NAME", "Delete a group", "  steward identity group delete team-a",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			grp, err := g.findGroup(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return g.do(cmd.Context(), http.MethodDelete, "/groups/"+grp["id"].(string), nil, nil)
		})
	member := &cobra.Command{Use: "member", Short: "Manage a group's members"}
	add := leaf("add GROUP OBJECT-ID", "Add a user, service principal or group to a group",
		"  steward identity group member add team-a 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(2), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			grp, err := g.findGroup(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			ref := map[string]any{"@odata.id": g.base + "/directoryObjects/" + a[1]}
			return g.do(cmd.Context(), http.MethodPost, "/groups/"+grp["id"].(string)+"/members/$ref", ref, nil)
		})
	remove := leaf("remove GROUP OBJECT-ID", "Remove a member from a group",
		"  steward identity group member remove team-a 00000000-0000-0000-0000-000000000000",
		cobra.ExactArgs(2), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			grp, err := g.findGroup(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return g.do(cmd.Context(), http.MethodDelete, "/groups/"+grp["id"].(string)+"/members/"+url.PathEscape(a[1])+"/$ref", nil, nil)
		})
	mlist := leaf("list GROUP", "List a group's members (--transitive: through nested groups)", "  steward identity group member list team-a --transitive",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			grp, err := g.findGroup(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			rel := "/members"
			if t, _ := cmd.Flags().GetBool("transitive"); t {
				rel = "/transitiveMembers"
			}
			objs, err := g.list(cmd.Context(), "/groups/"+grp["id"].(string)+rel)
			if err != nil {
				return err
			}
			for _, o := range objs {
				o["type"] = strings.TrimPrefix(cell(o["@odata.type"]), "#microsoft.graph.")
			}
			return printObjects(cmd, f, objs, false, "displayName", "id", "type")
		})
	mlist.Flags().Bool("transitive", false, "include members of nested groups")
	member.AddCommand(add, remove, mlist)
	cmd.AddCommand(create, list, show, del, member)
	return cmd
}

func newIdentityUserCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	cols := []string{"userPrincipalName", "displayName", "id"}
	create := leaf("create UPN", "Create a user with a password",
		`  steward identity user create ann@contoso.test --display-name Ann --password 'Corr3ct-Horse!'`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			name, _ := cmd.Flags().GetString("display-name")
			pw, _ := cmd.Flags().GetString("password")
			if name == "" || pw == "" {
				return &exitError{code: 2, msg: "--display-name and --password are required"}
			}
			alias, _, _ := strings.Cut(a[0], "@")
			body := map[string]any{"userPrincipalName": a[0], "displayName": name, "mailNickname": alias, "accountEnabled": true,
				"passwordProfile": map[string]any{"password": pw, "forceChangePasswordNextSignIn": false}}
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, "/users", body, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, cols...)
		})
	create.Flags().String("display-name", "", "display name (required)")
	create.Flags().String("password", "", "initial password (required; 8+ characters of three kinds)")
	list := leaf("list", "List users", `  steward identity user list --filter "startswith(userPrincipalName,'ann')"`,
		cobra.NoArgs, func(cmd *cobra.Command, g *graphClient, f cliout.Format, _ []string) error {
			filter, _ := cmd.Flags().GetString("filter")
			objs, err := g.list(cmd.Context(), filterPath("/users", filter))
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, cols...)
		})
	list.Flags().String("filter", "", "OData $filter")
	show := leaf("show ID|UPN", "Show a user", "  steward identity user show ann@contoso.test",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodGet, "/users/"+url.PathEscape(a[0]), nil, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, cols...)
		})
	del := leaf("delete ID|UPN", "Delete a user", "  steward identity user delete ann@contoso.test",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			return g.do(cmd.Context(), http.MethodDelete, "/users/"+url.PathEscape(a[0]), nil, nil)
		})
	groups := leaf("groups ID|UPN", "List the groups a user belongs to (--transitive: through nesting)", "  steward identity user groups ann@contoso.test --transitive",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			rel := "/memberOf"
			if t, _ := cmd.Flags().GetBool("transitive"); t {
				rel = "/transitiveMemberOf"
			}
			objs, err := g.list(cmd.Context(), "/users/"+url.PathEscape(a[0])+rel)
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, "displayName", "id")
		})
	groups.Flags().Bool("transitive", false, "include groups reached through nested groups")
	cmd.AddCommand(create, list, show, del, groups)
	cmd.AddCommand(userSignInCmds()...)
	return cmd
}

func newIdentityRoleCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "role", Short: "Manage directory role assignments (Global Administrator, Application Administrator, ...)"}
	list := leaf("list", "List directory role assignments", "  steward identity role list",
		cobra.NoArgs, func(cmd *cobra.Command, g *graphClient, f cliout.Format, _ []string) error {
			defs, err := g.list(cmd.Context(), "/roleManagement/directory/roleDefinitions")
			if err != nil {
				return err
			}
			names := map[string]string{}
			for _, d := range defs {
				names[cell(d["id"])] = cell(d["displayName"])
			}
			objs, err := g.list(cmd.Context(), "/roleManagement/directory/roleAssignments")
			if err != nil {
				return err
			}
			for _, o := range objs {
				o["role"] = names[cell(o["roleDefinitionId"])]
			}
			return printObjects(cmd, f, objs, false, "role", "principalId", "id")
		})
	assign := leaf("assign ROLE OBJECT-ID", "Give a user, group or service principal a directory role",
		`  steward identity role assign "Groups Administrator" 00000000-0000-0000-0000-000000000000`,
		cobra.ExactArgs(2), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			defs, err := g.list(cmd.Context(), "/roleManagement/directory/roleDefinitions")
			if err != nil {
				return err
			}
			roleID := ""
			for _, d := range defs {
				if strings.EqualFold(cell(d["displayName"]), a[0]) || strings.EqualFold(cell(d["id"]), a[0]) {
					roleID = cell(d["id"])
				}
			}
			if roleID == "" {
				return &exitError{code: 2, msg: fmt.Sprintf("error: no directory role %q (see the roles Steward knows in docs/graph.md)", a[0])}
			}
			var out map[string]any
			body := map[string]any{"principalId": a[1], "roleDefinitionId": roleID, "directoryScopeId": "/"}
			if err := g.do(cmd.Context(), http.MethodPost, "/roleManagement/directory/roleAssignments", body, &out); err != nil {
				return err
			}
			out["role"] = a[0]
			return printObjects(cmd, f, []map[string]any{out}, true, "role", "principalId", "id")
		})
	cmd.AddCommand(list, assign)
	return cmd
}
