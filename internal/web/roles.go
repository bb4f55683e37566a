package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
)

// maxRoleAssignments bounds the assignments the roles page lists.
const maxRoleAssignments = 500

// principalTypes are those a role assignment may name (the API's
// principalType values the console offers).
var principalTypes = []string{"User", "Group", "ServicePrincipal"}

// roleNamePattern admits a role's name as Azure spells them, or a GUID.
var roleNamePattern = regexp.MustCompile(`^[\w .()&/+-]{1,128}$`)

type roleAssignmentRow struct {
	Role, Principal, PrincipalType, Scope string
	Inherited, Conditional                bool
}

type rolesData struct {
	Scope string
	// Role, Principal and Type keep the form's values after a refusal.
	Role, Principal, Type string
	Types                 []string
	Roles                 []string
	Assignments           []roleAssignmentRow
	More                  bool
}

// roleClients builds the two Azure SDK clients of the page with the
// user's token: the management API's RBAC decides what the user sees and
// may create.
func (c *Console) roleClients(s *session) (*armauthorization.RoleAssignmentsClient, *armauthorization.RoleDefinitionsClient, error) {
	f, err := armauthorization.NewClientFactory("", userCredential{s}, c.opts.ARM)
	if err != nil {
		return nil, nil, err
	}
	return f.NewRoleAssignmentsClient(), f.NewRoleDefinitionsClient(), nil
}

// rolesPage lists the role assignments at a scope and above it (the user's
// first subscription by default) and offers a form to create one.
func (c *Console) rolesPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &rolesData{Scope: strings.TrimSpace(q.Get("scope")), Types: principalTypes, Type: "User"}
	pd := pageData{Title: "Role assignments", User: s, FreshMFA: s.freshMFA(c.opts.Now()), Notice: noticeText(q.Get("done")), Roles: d}
	if d.Scope == "" {
		if subs, err := c.subscriptionIDs(r.Context(), s, 1); err == nil && len(subs) > 0 {
			d.Scope = "/subscriptions/" + subs[0]
		}
	}
	if d.Scope == "" {
		pd.Error = "You may read no subscription: give a scope."
		c.render(w, r, "roles", http.StatusOK, pd)
		return
	}
	if !scopePattern.MatchString(d.Scope) {
		pd.Error = "Give a subscription, resource group or management group ID as the scope."
		c.render(w, r, "roles", http.StatusBadRequest, pd)
		return
	}
	status := http.StatusOK
	if err := c.readRoles(r.Context(), s, d); err != nil {
		msg, st := queryError(err)
		pd.Error, status = strings.Replace(msg, "The query was refused", "Reading the role assignments was refused", 1), st
		c.opts.Logger.InfoContext(r.Context(), "console: role assignments refused", "err", err.Error())
	}
	c.render(w, r, "roles", status, pd)
}

// readRoles fills d with the role definitions usable at d.Scope and the
// role assignments that apply there.
func (c *Console) readRoles(ctx context.Context, s *session, d *rolesData) error {
	assignments, definitions, err := c.roleClients(s)
	if err != nil {
		return err
	}
	names := map[string]string{}
	defs := definitions.NewListPager(d.Scope, nil)
	for defs.More() {
		page, err := defs.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, def := range page.Value {
			if def.Name == nil || def.Properties == nil || def.Properties.RoleName == nil {
				continue
			}
			names[strings.ToLower(*def.Name)] = *def.Properties.RoleName
			d.Roles = append(d.Roles, *def.Properties.RoleName)
		}
	}
	sort.Strings(d.Roles)
	pager := assignments.NewListForScopePager(d.Scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("atScope()")})
	for pager.More() && !d.More {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, ra := range page.Value {
			if len(d.Assignments) == maxRoleAssignments {
				d.More = true
				break
			}
			p := ra.Properties
			if p == nil || p.RoleDefinitionID == nil || p.PrincipalID == nil || p.Scope == nil {
				continue
			}
			role := *p.RoleDefinitionID
			if n, ok := names[strings.ToLower(role[strings.LastIndex(role, "/")+1:])]; ok {
				role = n
			}
			row := roleAssignmentRow{Role: role, Principal: *p.PrincipalID, Scope: *p.Scope,
				Inherited: !strings.EqualFold(*p.Scope, d.Scope), Conditional: p.Condition != nil && *p.Condition != ""}
			if p.PrincipalType != nil {
				row.PrincipalType = string(*p.PrincipalType)
			}
			d.Assignments = append(d.Assignments, row)
		}
	}
	sort.SliceStable(d.Assignments, func(i, j int) bool {
		if d.Assignments[i].Inherited != d.Assignments[j].Inherited {
			return !d.Assignments[i].Inherited
		}
		return d.Assignments[i].Role < d.Assignments[j].Role
	})
	return nil
}

// roleAssign creates a role assignment as the user. It needs a second
// factor from the last 10 minutes (without one the browser goes through
// the authorization endpoint first); the management API's RBAC, deny
// assignments and delegation conditions decide whether the user may.
func (c *Console) roleAssign(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	scope, role := strings.TrimSpace(f.Get("scope")), strings.TrimSpace(f.Get("role"))
	principal, ptype := strings.TrimSpace(f.Get("principal")), f.Get("type")
	if !scopePattern.MatchString(scope) || !roleNamePattern.MatchString(role) || !principalPattern.MatchString(principal) ||
		!slices.ContainsFunc(principalTypes, func(t string) bool { return strings.EqualFold(t, ptype) }) {
		c.fail(w, r, http.StatusBadRequest, "Give a scope, a role's name or ID, a principal's object ID and its type (User, Group or ServicePrincipal).", nil)
		return
	}
	back := Prefix + "roles?" + url.Values{"scope": {scope}}.Encode()
	if !s.freshMFA(c.opts.Now()) {
		http.Redirect(w, r, stepUpURL(back), http.StatusSeeOther)
		return
	}
	assignments, definitions, err := c.roleClients(s)
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	roleID, err := roleDefinitionID(r.Context(), definitions, scope, role)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) {
			c.apiFail(w, r, err)
			return
		}
		c.fail(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	_, err = assignments.Create(r.Context(), scope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{
		Properties: &armauthorization.RoleAssignmentProperties{RoleDefinitionID: to.Ptr(roleID), PrincipalID: to.Ptr(principal),
			PrincipalType: to.Ptr(armauthorization.PrincipalType(ptype))}}, nil)
	if needsStepUp(err) {
		http.Redirect(w, r, stepUpURL(back), http.StatusSeeOther)
		return
	}
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	http.Redirect(w, r, back+"&done=assigned", http.StatusSeeOther)
}

// roleDefinitionID resolves a role's ID or name at scope as the Azure CLI
// does for --role: a GUID names the definition, anything else is looked
// up by roleName.
func roleDefinitionID(ctx context.Context, definitions *armauthorization.RoleDefinitionsClient, scope, role string) (string, error) {
	if _, err := uuid.Parse(role); err == nil {
		return scope + "/providers/Microsoft.Authorization/roleDefinitions/" + strings.ToLower(role), nil
	}
	filter := "roleName eq '" + strings.ReplaceAll(role, "'", "''") + "'"
	pager := definitions.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, def := range page.Value {
			if def.ID != nil && def.Properties != nil && def.Properties.RoleName != nil && strings.EqualFold(*def.Properties.RoleName, role) {
				return *def.ID, nil
			}
		}
	}
	return "", errors.New("No role named " + role + " can be assigned at this scope.")
}

var _ = template.Must(pages.New("roles").Parse(`{{template "head" .}}
<h1>Role assignments</h1>
{{if .Notice}}<p class="ok" role="status">{{.Notice}}</p>{{end}}
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Roles}}<form method="get" action="/console/roles">
<p><label for="scope">Scope</label><br><input id="scope" name="scope" size="70" maxlength="300" value="{{.Scope}}" required>
<button type="submit">Show</button></p></form>
<h2>Grant a role</h2>
{{if not $.FreshMFA}}<p>Creating a role assignment needs a second factor from the last 10 minutes: the console asks for it when you grant.</p>{{end}}
<p>The management API decides whether you may: your role assignments, deny assignments and the conditions that limit what you can delegate (see <a href="/console/delegation?scope={{.Scope}}">Delegation</a>).</p>
<form method="post" action="/console/roles/assign"><input type="hidden" name="csrf" value="{{$.User.CSRF}}"><input type="hidden" name="scope" value="{{.Scope}}">
<p><label for="role">Role (name or ID)</label><br><input id="role" name="role" list="role-names" size="40" maxlength="128" value="{{.Role}}" required>
<datalist id="role-names">{{range .Roles}}<option value="{{.}}">{{end}}</datalist></p>
<p><label for="principal">Principal (object ID)</label><br><input id="principal" name="principal" size="40" maxlength="36" value="{{.Principal}}" required></p>
<p><label for="type">Principal type</label><br><select id="type" name="type">{{range .Types}}<option{{if eq . $.Roles.Type}} selected{{end}}>{{.}}</option>{{end}}</select></p>
<p><button type="submit" id="grant">Grant</button></p></form>
<h2>Assignments that apply here</h2>
<div class="scroll"><table id="assignments"><caption>{{len .Assignments}} role assignments at this scope and above it{{if .More}} (the first {{len .Assignments}}){{end}}</caption><thead><tr><th scope="col">Role</th><th scope="col">Principal</th><th scope="col">Type</th><th scope="col">Scope</th><th scope="col">Condition</th></tr></thead><tbody>
{{range .Assignments}}<tr><td>{{.Role}}</td><td>{{.Principal}}</td><td>{{.PrincipalType}}</td><td>{{if .Inherited}}{{.Scope}} (inherited){{else}}this scope{{end}}</td><td>{{if .Conditional}}yes{{else}}no{{end}}</td></tr>
{{else}}<tr><td colspan="5">No role assignment you may read applies here.</td></tr>{{end}}
</tbody></table></div>{{end}}
{{template "foot" .}}`))
