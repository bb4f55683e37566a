package web

import (
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// catalogSubscription and catalogAuthorization are the parts of the
// vending catalog API's answer the page shows.
type catalogSubscription struct {
	ID          string `json:"subscriptionId"`
	DisplayName string `json:"displayName"`
}

type catalogAuthorization struct {
	PrincipalID    string   `json:"principalId"`
	SubscriptionID string   `json:"subscriptionId"`
	CostCenters    []string `json:"costCenters"`
	Environments   []string `json:"environments"`
	Regions        []string `json:"regions"`
}

type catalogData struct {
	Subscriptions  []catalogSubscription
	Authorizations []catalogAuthorization
}

// catalogValuePattern admits one cost center, environment or region.
var catalogValuePattern = regexp.MustCompile(`^[\w.-]{1,64}$`)

// catalogPage shows the vending catalog (the subscriptions teams may ask
// in and who may ask for what) to the platform team; the catalog API
// refuses everyone else.
func (c *Console) catalogPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Vending catalog", User: s, FreshMFA: s.freshMFA(c.opts.Now()), Notice: noticeText(r.URL.Query().Get("done"))}
	if c.opts.Catalog == "" {
		d.Error = "Vending is not served by this Steward."
		c.render(w, r, "catalog", http.StatusOK, d)
		return
	}
	var cat catalogData
	if err := c.vendingCallURL(r.Context(), s, http.MethodGet, c.opts.Catalog, nil, &cat); err != nil {
		var re *azcore.ResponseError
		status := http.StatusBadGateway
		d.Error = "The catalog could not be read; try again."
		if errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
			status, d.Error = http.StatusForbidden, "Only the platform team may read and change the vending catalog ("+re.ErrorCode+")."
		}
		c.opts.Logger.InfoContext(r.Context(), "console: reading the vending catalog", "err", err.Error())
		c.render(w, r, "catalog", status, d)
		return
	}
	sort.SliceStable(cat.Authorizations, func(i, j int) bool {
		a, b := cat.Authorizations[i], cat.Authorizations[j]
		return a.SubscriptionID < b.SubscriptionID || (a.SubscriptionID == b.SubscriptionID && a.PrincipalID < b.PrincipalID)
	})
	d.Catalog = &cat
	c.render(w, r, "catalog", http.StatusOK, d)
}

// catalogAuthorize adds or replaces who may ask for groups in a catalog
// subscription, as the user: a change of the catalog, so it needs a
// second factor from the last 10 minutes (the API checks it too).
func (c *Console) catalogAuthorize(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	a := catalogAuthorization{PrincipalID: strings.ToLower(strings.TrimSpace(f.Get("principal"))),
		SubscriptionID: strings.ToLower(strings.TrimSpace(f.Get("subscription"))),
		CostCenters:    splitList(f.Get("costCenters")), Environments: splitList(f.Get("environments")), Regions: splitList(f.Get("regions"))}
	ok := principalPattern.MatchString(a.PrincipalID) && principalPattern.MatchString(a.SubscriptionID) &&
		len(a.CostCenters) > 0 && len(a.Environments) > 0 && len(a.Regions) > 0
	for _, l := range [][]string{a.CostCenters, a.Environments, a.Regions} {
		for _, v := range l {
			ok = ok && catalogValuePattern.MatchString(v) && len(l) <= 50
		}
	}
	if !ok {
		c.fail(w, r, http.StatusBadRequest, "Give a principal's object ID, a catalog subscription, and the cost centers, environments and regions (separated by commas; letters, digits, '.', '-' and '_').", nil)
		return
	}
	if !s.freshMFA(c.opts.Now()) {
		http.Redirect(w, r, stepUpURL(Prefix+"catalog"), http.StatusSeeOther)
		return
	}
	err := c.vendingCallURL(r.Context(), s, http.MethodPut, c.opts.Catalog+"/authorizations", a, nil)
	if needsStepUp(err) {
		http.Redirect(w, r, stepUpURL(Prefix+"catalog"), http.StatusSeeOther)
		return
	}
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"catalog?done=authorized", http.StatusSeeOther)
}

// splitList splits a form field at commas and white space.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

var _ = template.Must(pages.New("catalog").Parse(`{{template "head" .}}
<h1>Vending catalog</h1>
{{if .Notice}}<p class="ok" role="status">{{.Notice}}</p>{{end}}
{{if .Error}}<p class="warn" role="alert">{{.Error}}</p>{{end}}
{{with .Catalog}}<h2>Subscriptions</h2>
<div class="scroll"><table id="subscriptions"><thead><tr><th scope="col">Subscription</th><th scope="col">Name</th></tr></thead><tbody>
{{range .Subscriptions}}<tr><td>{{.ID}}</td><td>{{.DisplayName}}</td></tr>
{{else}}<tr><td colspan="2">No subscription is in the catalog (steward vending catalog subscription add).</td></tr>{{end}}
</tbody></table></div>
<h2>Who may ask for what</h2>
<div class="scroll"><table id="authorizations"><thead><tr><th scope="col">Principal</th><th scope="col">Subscription</th><th scope="col">Cost centers</th><th scope="col">Environments</th><th scope="col">Regions</th></tr></thead><tbody>
{{range .Authorizations}}<tr><td>{{.PrincipalID}}</td><td>{{.SubscriptionID}}</td><td>{{join .CostCenters}}</td><td>{{join .Environments}}</td><td>{{join .Regions}}</td></tr>
{{else}}<tr><td colspan="5">Nobody may ask for a group yet.</td></tr>{{end}}
</tbody></table></div>
{{if .Subscriptions}}<h2>Authorize a principal</h2>
{{if not $.FreshMFA}}<p>Changing the catalog needs a second factor from the last 10 minutes: the console asks for it when you save.</p>{{end}}
<p>Saving replaces what the principal may ask for in that subscription.</p>
<form method="post" action="/console/catalog/authorize"><input type="hidden" name="csrf" value="{{$.User.CSRF}}">
<p><label for="principal">Principal (object ID of a user or group)</label><br><input id="principal" name="principal" size="40" maxlength="36" required></p>
<p><label for="subscription">Subscription</label><br><select id="subscription" name="subscription">{{range .Subscriptions}}<option value="{{.ID}}">{{if .DisplayName}}{{.DisplayName}} ({{.ID}}){{else}}{{.ID}}{{end}}</option>{{end}}</select></p>
<p><label for="costCenters">Cost centers (separated by commas)</label><br><input id="costCenters" name="costCenters" size="40" maxlength="1000" required></p>
<p><label for="environments">Environments</label><br><input id="environments" name="environments" size="40" maxlength="1000" required></p>
<p><label for="regions">Regions</label><br><input id="regions" name="regions" size="40" maxlength="1000" required></p>
<p><button type="submit" id="authorize">Save</button></p></form>{{end}}{{end}}
{{template "foot" .}}`))
