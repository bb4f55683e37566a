package web

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

// style is the console's only CSS, inline and allowed by its hash in the
// Content-Security-Policy (no external assets, no 'unsafe-inline').
const style = `body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#0b3d6b;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}main{padding:1rem;max-width:60rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ccc}.ok{color:#0b6a0b}.warn{color:#a4262c}
button{padding:.4rem 1rem;background:#0054a6;color:#fff;border:0}form.inline{display:inline;margin-left:auto}
.scroll{overflow-x:auto}td,code,h1,h2{overflow-wrap:anywhere}textarea,select,input{max-width:100%;box-sizing:border-box}:focus-visible{outline:2px solid #fff;box-shadow:0 0 0 4px #1b1b1b}
@media (max-width:40rem){main{padding:.5rem}th,td{padding:.25rem;font-size:.9rem}table{display:block;overflow-x:auto}}`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(style))
	return base64.StdEncoding.EncodeToString(sum[:])
}()

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"plus":   func(a, b int) int { return a + b },
	"join":   func(l []string) string { return strings.Join(l, ", ") },
	"height": func(n int) int { return n*24 + 4 },
	"resourceLink": func(d *drillData, resource string) string {
		return Prefix + "compliance/resource?" + url.Values{"subscription": {d.Subscription}, "assignment": {d.Assignment}, "resource": {resource}}.Encode()
	},
	"assignmentLink": func(d *drillData) string { return drillLink(d.Subscription, d.Assignment) },
}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Steward console</title><style>` + style + `</style></head><body>
<header><strong>Steward</strong><a href="/console/">Overview</a><a href="/console/alerts">Alerts</a><a href="/console/kql">Logs</a><a href="/console/vending">Vending</a><a href="/console/credentials">Credentials</a><a href="/console/access">Access</a><a href="/console/delegation">Delegation</a><a href="/console/roles">Roles</a><a href="/console/security">Security</a>
{{if .User}}<span>{{.User.Name}}</span><form class="inline" method="post" action="/console/signout">
<input type="hidden" name="csrf" value="{{.User.CSRF}}"><button type="submit">Sign out</button></form>{{end}}</header>
<main>{{end}}
{{define "foot"}}</main></body></html>{{end}}

{{define "overview"}}{{template "head" .}}
<h1>Overview</h1>
<h2>Subscriptions you can read</h2>
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{else}}
<table><thead><tr><th scope="col">Name</th><th scope="col">Subscription ID</th><th scope="col">State</th></tr></thead><tbody>
{{range .Subscriptions}}<tr><td>{{.Name}}</td><td>{{.ID}}</td><td>{{.State}}</td></tr>
{{else}}<tr><td colspan="3">None: you have no role on any subscription.</td></tr>{{end}}
</tbody></table>{{end}}
{{range .Compliance}}<section>
<h2>Compliance of {{.Subscription}}</h2>
{{if lt .Percent 0}}<p>No resource has been evaluated yet.</p>
{{else}}<p><strong class="{{if eq .NonCompliant 0}}ok{{else}}warn{{end}}">{{.Percent}}% compliant</strong>: {{.Compliant}} compliant, {{.NonCompliant}} non-compliant resources.</p>{{end}}
{{with .Assignments}}<h3>Non-compliant resources by assignment</h3>
<svg role="img" aria-label="Non-compliant resources by assignment" width="100%" viewBox="0 0 600 {{len . | height}}" preserveAspectRatio="xMinYMin meet">
{{range .}}<g><rect x="0" y="{{.Y}}" width="{{.Width}}" height="18" fill="#a4262c"></rect><text x="{{.Width | plus 6}}" y="{{.Y | plus 14}}" font-size="13">{{.Label}}</text></g>
{{end}}</svg>
<div class="scroll"><table class="assignments"><caption>Open an assignment to see its non-compliant resources</caption><thead><tr><th scope="col">Assignment</th><th scope="col">Non-compliant resources</th></tr></thead><tbody>
{{range .}}<tr><td><a href="{{.Link}}">{{.Name}}</a></td><td>{{.NonCompliant}}</td></tr>
{{end}}</tbody></table></div>{{end}}
</section>{{end}}
{{if .ComplianceError}}<p class="warn">{{.ComplianceError}}</p>{{end}}
{{with .Open}}<section><h2>Open alerts</h2>
{{if .Error}}<p class="warn">{{.Error}}</p>{{end}}
{{if .Count}}<p><strong class="warn">{{.Count}} open</strong> (fired and not closed, last 30 days); the newest:</p>
<div class="scroll"><table id="open-alerts"><thead><tr><th scope="col">Rule</th><th scope="col">Severity</th><th scope="col">State</th><th scope="col">Target</th><th scope="col">Fired</th></tr></thead><tbody>
{{range .Top}}<tr><td>{{.Name}}</td><td>{{.Severity}}</td><td>{{.State}}</td><td>{{.Target}}</td><td>{{.Started}}</td></tr>
{{end}}</tbody></table></div>{{else if not .Error}}<p class="ok">No open alert.</p>{{end}}
<p><a href="/console/alerts">All alerts</a></p></section>{{end}}
{{with .Trend}}<section><h2>Compliance over time</h2>
<form method="get" action="/console/"><p><label for="workspace">Workspace with the collected policy states</label>
<select id="workspace" name="workspace">{{range .Workspaces}}<option value="{{.ID}}"{{if eq .ID $.Trend.Workspace}} selected{{end}}>{{.Name}}</option>
{{else}}<option value="">No workspace you may read</option>{{end}}</select> <button type="submit">Show</button></p></form>
<p>From the policy states the collector sends to <code>PolicyComplianceStates_CL</code>: the compliance of each day of the last 30, and the non-compliant resources of each tenant in the last day.</p>
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Trend}}{{if .Rows}}<h3>Compliance % by day</h3>{{template "result" .}}{{else}}<p>No policy state was collected in the last 30 days.</p>{{end}}{{end}}
{{with .Tenants}}{{if .Rows}}<h3>Non-compliant resources by tenant</h3>{{template "result" .}}{{end}}{{end}}
{{if or .Credentials .CredentialsNote}}<h3>Credentials that expire</h3>
{{with .Credentials}}{{template "result" .}}{{end}}{{with .CredentialsNote}}<p>{{.}}</p>{{end}}
<p><a href="/console/credentials?workspace={{.Workspace}}">Credentials of this workspace</a></p>{{end}}
</section>{{end}}
{{template "foot" .}}{{end}}

{{define "security"}}{{template "head" .}}
<h1>Your sign-in</h1>
<p>Signed in as {{.User.UPN}} at {{.AuthTime}}, with: <code id="amr">{{range $i, $m := .User.AMR}}{{if $i}} {{end}}{{$m}}{{end}}</code>.</p>
{{if .FreshMFA}}<p class="ok" id="stepup-status">Verified with a second factor in the last 10 minutes: changes that need it are allowed.</p>
{{else}}<p class="warn" id="stepup-status">Changes such as closing an alert or approving a request need a recent second factor.</p>
<p><a href="/console/signin?stepup=1&amp;return=/console/security" id="stepup">Verify with a second factor</a> (your authenticator app or security key; without one, you set one up first)</p>{{end}}
{{if .SecurityInfo}}<p><a href="{{.SecurityInfo}}" id="security-info">Security info</a>: add a security key (it can also sign you in without a password) or an authenticator app.</p>{{end}}
{{template "foot" .}}{{end}}

{{define "alerts"}}{{template "head" .}}
<h1>Alerts</h1>
{{if .Notice}}<p class="ok" role="status">{{.Notice}}</p>{{end}}
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{if not .FreshMFA}}<p>Closing an alert needs a second factor from the last 10 minutes: the console asks for it when you close one.</p>{{end}}
<table><caption>Alerts of the last 30 days, fired first</caption><thead><tr><th scope="col">Rule</th><th scope="col">Severity</th><th scope="col">Condition</th><th scope="col">State</th><th scope="col">Target</th><th scope="col">Fired</th><th scope="col">Resolved</th><th scope="col">Actions</th></tr></thead><tbody>
{{range .Alerts}}<tr><td>{{.Name}}</td><td>{{.Severity}}</td><td class="{{if eq .Condition "Fired"}}warn{{else}}ok{{end}}">{{.Condition}}</td><td>{{.State}}</td><td>{{.Target}}</td><td>{{.Started}}</td><td>{{.Resolved}}</td>
<td>{{if ne .State "Closed"}}<form method="post" action="/console/alerts/state">
<input type="hidden" name="csrf" value="{{$.User.CSRF}}"><input type="hidden" name="alert" value="{{.ID}}">
{{if eq .State "New"}}<button type="submit" name="state" value="Acknowledged" aria-label="Acknowledge {{.Name}}">Acknowledge</button>{{end}}
<button type="submit" name="state" value="Closed" aria-label="Close {{.Name}}">Close</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="8">No alert in the last 30 days.</td></tr>{{end}}
</tbody></table>
{{template "foot" .}}{{end}}

{{define "kql"}}{{template "head" .}}
<h1>Logs</h1>
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .KQL}}<form method="post" action="/console/kql">
<input type="hidden" name="csrf" value="{{$.User.CSRF}}">
<p><label for="workspace">Workspace</label><br><select id="workspace" name="workspace" required>
{{range .Workspaces}}<option value="{{.ID}}"{{if eq .ID $.KQL.Workspace}} selected{{end}}>{{.Name}}</option>
{{else}}<option value="">No workspace you may read</option>{{end}}</select>
<label for="timespan">Time range</label> <select id="timespan" name="timespan">
{{range .Timespans}}<option{{if eq . $.KQL.Timespan}} selected{{end}}>{{.}}</option>{{end}}</select></p>
<p><label for="query">Query (KQL)</label><br><textarea id="query" name="query" rows="6" cols="80" maxlength="10000" required>{{.Query}}</textarea></p>
<p><button type="submit">Run</button></p></form>
{{if .Partial}}<p class="warn" role="alert">{{.Partial}}</p>{{end}}
{{if .More}}<h2>{{.Name}}</h2>{{end}}{{template "result" .}}{{range .More}}<h2>{{.Name}}</h2>{{template "result" .}}{{end}}{{end}}
{{template "foot" .}}{{end}}

{{define "result"}}{{with .Chart}}<section><h2>{{if .Title}}{{.Title}}{{else}}Chart ({{.Kind}}){{end}}</h2>
{{if .Note}}<p class="warn">{{.Note}}</p>{{end}}
{{if or .Lines .Bars .Slices}}<svg id="chart" role="img" aria-label="{{.Kind}} of the result" width="100%" viewBox="0 0 {{.Width}} {{.Height}}" preserveAspectRatio="xMinYMin meet">
{{if or .Lines .Bars}}<line x1="60" y1="270" x2="620" y2="270" stroke="#3b3a39"></line><line x1="60" y1="10" x2="60" y2="270" stroke="#3b3a39"></line>
<text x="56" y="20" font-size="12" text-anchor="end">{{.YMax}}</text><text x="56" y="270" font-size="12" text-anchor="end">{{.YMin}}</text>{{end}}
{{if .Lines}}<text x="60" y="290" font-size="12">{{.XMin}}</text><text x="620" y="290" font-size="12" text-anchor="end">{{.XMax}}</text>{{end}}
{{range .Lines}}<polyline fill="none" stroke="{{.Color}}" stroke-width="2" points="{{.Points}}"><title>{{.Label}}</title></polyline>
{{end}}{{range .Bars}}<rect x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .Y}}" width="{{printf "%.1f" .W}}" height="{{printf "%.1f" .H}}" fill="{{.Color}}"><title>{{.Label}}</title></rect>
{{end}}{{range .Slices}}<path d="{{.Path}}" fill="{{.Color}}" stroke="#fff"><title>{{.Label}}</title></path>
{{end}}</svg>
<ul>{{range .Lines}}<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{{.Color}}"></rect></svg> {{.Label}}</li>{{end}}{{range .Slices}}<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{{.Color}}"></rect></svg> {{.Label}}</li>{{end}}{{range .Bars}}<li>{{.Label}}</li>{{end}}</ul>{{end}}
</section>{{end}}
{{if .Columns}}<div class="scroll"><table><caption>{{.Shown}} of {{.Total}} rows</caption><thead><tr>{{range .Columns}}<th scope="col">{{.Name}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{end}}{{end}}

{{define "credentials"}}{{template "head" .}}
<h1>Credentials</h1>
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Credentials}}<form method="get" action="/console/credentials"><p><label for="workspace">Workspace with the credential report</label>
<select id="workspace" name="workspace">{{range .Workspaces}}<option value="{{.ID}}"{{if eq .ID $.Credentials.Workspace}} selected{{end}}>{{.Name}}</option>
{{else}}<option value="">No workspace you may read</option>{{end}}</select> <button type="submit">Show</button></p></form>
<p>From the latest <code>steward report credentials --workspace</code> run of the last 7 days.</p>
{{with .Expiring}}<h2>Expired or expiring in the next 30 days</h2>{{if .Columns}}{{if .Rows}}{{template "result" .}}{{else}}<p class="ok">None.</p>{{end}}{{else}}<p>No credential report in this workspace.</p>{{end}}{{end}}
{{with .Age}}{{if .Rows}}<h2>Credentials by age</h2>{{template "result" .}}{{end}}{{end}}{{end}}
{{template "foot" .}}{{end}}

{{define "vending"}}{{template "head" .}}
<h1>Vending</h1>
<p>The platform team keeps the <a href="/console/catalog">vending catalog</a>: the subscriptions teams may ask in, and who may ask for what.</p>
{{if .Notice}}<p class="ok" role="status">{{.Notice}}</p>{{end}}
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Vending}}<h2>My requests</h2>
<table><thead><tr><th scope="col">Group</th><th scope="col">Subscription</th><th scope="col">Environment</th><th scope="col">Cost center</th><th scope="col">Region</th><th scope="col">Status</th><th scope="col">Requested</th></tr></thead><tbody>
{{range .Mine}}<tr><td>{{.Request.Name}}</td><td>{{.Request.SubscriptionID}}</td><td>{{.Request.Environment}}</td><td>{{.Request.CostCenter}}</td><td>{{.Request.Region}}</td>
<td class="{{if eq .Status "Failed"}}warn{{end}}">{{.Status}}{{with .Error}}: {{.Code}}{{end}}{{with .Decision}} ({{if .Approved}}approved{{else}}rejected{{end}} by {{.By}}){{end}}</td><td>{{.Created.Format "2006-01-02 15:04"}}</td></tr>
{{else}}<tr><td colspan="7">You have made no request (steward rg request).</td></tr>{{end}}
</tbody></table>
{{if .ToApprove}}<h2>Waiting for your approval</h2>
{{if not $.FreshMFA}}<p>Approving or rejecting needs a second factor from the last 10 minutes: the console asks for it when you decide.</p>{{end}}
<table><thead><tr><th scope="col">Group</th><th scope="col">Requested by</th><th scope="col">Environment</th><th scope="col">Subscription</th><th scope="col">Decision</th></tr></thead><tbody>
{{range .ToApprove}}<tr><td>{{.Request.Name}}</td><td>{{.Caller}}</td><td>{{.Request.Environment}}</td><td>{{.Request.SubscriptionID}}</td>
<td><form method="post" action="/console/vending/decide"><input type="hidden" name="csrf" value="{{$.User.CSRF}}"><input type="hidden" name="request" value="{{.ID}}">
<label for="reason-{{.ID}}">Reason</label> <input id="reason-{{.ID}}" name="reason" maxlength="1000">
<button type="submit" name="decision" value="approve" aria-label="Approve {{.Request.Name}}">Approve</button>
<button type="submit" name="decision" value="reject" aria-label="Reject {{.Request.Name}}">Reject</button></form></td></tr>
{{end}}</tbody></table>{{end}}{{end}}
{{template "foot" .}}{{end}}

{{define "assignment"}}{{template "head" .}}
{{with .Drill}}<p><a href="/console/">Overview</a> &rsaquo; {{.Subscription}}</p>
<h1>Non-compliant resources of {{.AssignmentName}}</h1>
<p><code>{{.Assignment}}</code></p>
<div class="scroll"><table id="noncompliant"><caption>{{len .States}} non-compliant {{if .More}}states shown (there are more){{else}}states{{end}}, latest evaluation</caption><thead><tr><th scope="col">Resource</th><th scope="col">Type</th><th scope="col">Policy definition</th><th scope="col">Reference</th><th scope="col">Effect</th><th scope="col">Evaluated</th></tr></thead><tbody>
{{range .States}}<tr><td><a href="{{resourceLink $.Drill .Resource}}">{{.Resource}}</a></td><td>{{.ResourceType}}</td><td>{{.Definition}}</td><td>{{.Reference}}</td><td>{{.Effect}}</td><td>{{.Evaluated}}</td></tr>
{{else}}<tr><td colspan="6" class="ok">No resource is non-compliant with this assignment.</td></tr>{{end}}
</tbody></table></div>{{end}}
{{template "foot" .}}{{end}}

{{define "resource"}}{{template "head" .}}
{{with .Drill}}<p><a href="/console/">Overview</a> &rsaquo; <a href="{{assignmentLink .}}">{{.AssignmentName}}</a></p>
<h1>Policy evaluation of a resource</h1>
<p><code>{{.Resource}}</code></p>
{{range .States}}<section><h2>{{.Definition}}{{with .Reference}} ({{.}}){{end}}: <span class="{{if eq .State "NonCompliant"}}warn{{else}}ok{{end}}">{{.State}}</span></h2>
<p>Effect {{.Effect}}, evaluated {{.Evaluated}}.</p>
{{if .Expressions}}<div class="scroll"><table class="expressions"><caption>Evaluated expressions</caption><thead><tr><th scope="col">Kind</th><th scope="col">Expression</th><th scope="col">Path</th><th scope="col">Operator</th><th scope="col">Value</th><th scope="col">Target</th><th scope="col">Result</th></tr></thead><tbody>
{{range .Expressions}}<tr><td>{{.Kind}}</td><td>{{.Expression}}</td><td>{{.Path}}</td><td>{{.Operator}}</td><td>{{.Value}}</td><td>{{.Target}}</td><td class="{{if eq .Result "True"}}ok{{else}}warn{{end}}">{{.Result}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p>The service returned no evaluation details for this state.</p>{{end}}
</section>{{else}}<p>No policy state of this assignment for this resource.</p>{{end}}{{end}}
{{template "foot" .}}{{end}}

{{define "access"}}{{template "head" .}}
<h1>Access</h1>
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Access}}<form method="get" action="/console/access"><p><label for="workspace">Workspace with the report runs</label>
<select id="workspace" name="workspace">{{range .Workspaces}}<option value="{{.ID}}"{{if eq .ID $.Access.Workspace}} selected{{end}}>{{.Name}}</option>
{{else}}<option value="">No workspace you may read</option>{{end}}</select> <button type="submit">Show</button></p></form>
<p>From the latest succeeded run of the scheduled <code>access</code> report of the last 7 days (<code>StewardReportFindings_CL</code>): role assignments whose principal used none of the role's operations at their scope.</p>
{{with .Run}}{{if .Rows}}<h2>Latest run</h2>{{template "result" .}}{{else}}<p>No access report run in this workspace in the last 7 days.</p>{{end}}{{end}}
{{with .Unused}}{{if .Rows}}<h2>Unused role assignments</h2>{{template "result" .}}{{else if $.Access.Run.Rows}}<p class="ok">No unused role assignment.</p>{{end}}{{end}}{{end}}
{{template "foot" .}}{{end}}

{{define "delegation"}}{{template "head" .}}
<h1>Delegation</h1>
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Delegation}}<form method="get" action="/console/delegation">
<p><label for="scope">Scope</label><br><input id="scope" name="scope" size="70" maxlength="300" value="{{.Scope}}" required></p>
<p><label for="principal">Principal (object ID)</label><br><input id="principal" name="principal" size="40" maxlength="36" value="{{.Principal}}" required></p>
<p><label for="targets">Other principals to grant to (object IDs, optional)</label><br><input id="targets" name="targets" size="70" maxlength="800" value="{{.Targets}}"></p>
<p><input type="checkbox" id="all" name="all" value="1"{{if not .AllowedOnly}} checked{{end}}> <label for="all">Also show roles the principal cannot grant</label></p>
<p><button type="submit">Analyse</button></p></form>
<p>For each role and principal type: may the principal create that role assignment at the scope, for anyone (<em>any</em>), for itself (<em>self</em>) and for each principal named? Decided by the management API's RBAC (role assignments, deny assignments, conditions, assignable scopes).</p>
{{if .Ran}}{{with .Escalations}}<h2 class="warn">{{len .}} escalation paths</h2>
<div class="scroll"><table id="escalations"><thead><tr><th scope="col">Kind</th><th scope="col">Role</th><th scope="col">Type</th><th scope="col">Target</th></tr></thead><tbody>
{{range .}}<tr><td>{{.Kind}}</td><td>{{.RoleName}}</td><td>{{.PrincipalType}}</td><td>{{.TargetKind}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p class="ok">No escalation path.</p>{{end}}
<div class="scroll"><table id="matrix"><caption>What the principal can grant{{if .Hidden}} ({{.Hidden}} rows with no allowed grant hidden){{end}}</caption><thead><tr><th scope="col">Role</th><th scope="col">Principal type</th>{{range .Columns}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr><th scope="row">{{.Role}}</th><td>{{.Type}}</td>{{range .Cells}}<td class="{{if .Allowed}}ok{{else}}warn{{end}}" title="{{.Reason}}">{{if .Allowed}}allowed{{else}}refused{{with .RefusedBy}}: {{.}}{{end}}{{end}}</td>{{end}}</tr>
{{else}}<tr><td colspan="{{len .Columns | plus 2}}">The principal can grant no role here.</td></tr>{{end}}
</tbody></table></div>{{end}}{{end}}
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}
<h1>Something went wrong</h1><p class="warn" role="alert">{{.Error}}</p><p><a href="/console/signin">Sign in</a></p>
{{template "foot" .}}{{end}}
`))

type subscriptionRow struct{ Name, ID, State string }

// maxSummaries bounds the compliance summaries one overview reads.
const maxSummaries = 20

type pageData struct {
	Title         string
	User          *session
	Error         string
	Subscriptions []subscriptionRow
	FreshMFA      bool
	AuthTime      string
	// SecurityInfo is the token service's security-info page, where the
	// user adds a security key or an authenticator app.
	SecurityInfo string
	Compliance   []compliance
	// ComplianceError says that a summary could not be read.
	ComplianceError string
	// Notice confirms a change.
	Notice      string
	Alerts      []alertRow
	KQL         *kqlData
	Vending     *vendingData
	Credentials *credentialsData
	Trend       *trendData
	Drill       *drillData
	Access      *accessData
	Delegation  *delegationData
	Roles       *rolesData
	Catalog     *catalogData
	// Open summarizes the open alerts on the overview.
	Open *openAlerts
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		c.opts.Logger.ErrorContext(r.Context(), "console page rendering failed", "page", name, "err", err.Error())
	}
}

// fail shows msg; err (never shown) goes to the log.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		c.opts.Logger.WarnContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err.Error())
	}
	c.render(w, r, "error", status, pageData{Title: "Error", Error: msg})
}

// overview lists the subscriptions the user may read, through the Azure
// SDK with the user's token: the management API's RBAC filters them.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Overview", User: s}
	client, err := armsubscriptions.NewClient(userCredential{s}, c.opts.ARM)
	if err == nil {
		pager := client.NewListPager(nil)
		for pager.More() && err == nil {
			var page armsubscriptions.ClientListResponse
			if page, err = pager.NextPage(r.Context()); err != nil {
				break
			}
			for _, sub := range page.Value {
				row := subscriptionRow{}
				if sub.DisplayName != nil {
					row.Name = *sub.DisplayName
				}
				if sub.SubscriptionID != nil {
					row.ID = *sub.SubscriptionID
				}
				if sub.State != nil {
					row.State = string(*sub.State)
				}
				d.Subscriptions = append(d.Subscriptions, row)
			}
		}
	}
	if err != nil {
		c.opts.Logger.WarnContext(r.Context(), "console: listing subscriptions", "err", err.Error())
		d.Error = "The management API could not be read; try again."
	}
	for i, sub := range d.Subscriptions {
		if i == maxSummaries {
			break
		}
		cs, err := c.summarize(r.Context(), s, sub.ID)
		if err != nil {
			c.opts.Logger.WarnContext(r.Context(), "console: compliance summary", "subscription", sub.ID, "err", err.Error())
			d.ComplianceError = "The compliance of some subscriptions could not be read."
			continue
		}
		d.Compliance = append(d.Compliance, cs)
	}
	d.Open = overviewAlerts(c.listAlerts(r.Context(), s))
	d.Trend = c.trend(r, s)
	c.render(w, r, "overview", http.StatusOK, d)
}

// security shows whether the session's second factor is fresh enough for
// a sensitive change, with the step-up link when it is not.
func (c *Console) security(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, "security", http.StatusOK, pageData{Title: "Security", User: s, FreshMFA: s.freshMFA(c.opts.Now()),
		AuthTime: s.AuthTime.Format(time.RFC3339), SecurityInfo: securityInfoURL(c.opts.Issuer)})
}

// securityInfoURL is the token service's security-info page of the
// issuer's tenant ("https://host/{tenant}/security-info"), "" when the
// issuer has not that form.
func securityInfoURL(issuer string) string {
	base, ok := strings.CutSuffix(strings.TrimSuffix(issuer, "/"), "/v2.0")
	if !ok || !strings.HasPrefix(base, "https://") {
		return ""
	}
	return base + "/security-info"
}
