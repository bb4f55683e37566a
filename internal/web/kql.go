package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

// workspacesAPIVersion lists Log Analytics workspaces.
const workspacesAPIVersion = "2022-10-01"

// Limits of the KQL page: the query's length, the rows shown and the
// time the query may take.
const (
	maxQueryLen  = 10000
	maxShownRows = 1000
	queryWait    = 60
)

// timespans are the KQL page's choices, as the portal offers them.
var timespans = []string{"PT1H", "PT4H", "PT12H", "P1D", "P7D", "P30D"}

type workspaceRow struct{ ID, Name string }

type kqlData struct {
	Workspaces []workspaceRow
	Timespans  []string
	Workspace  string
	Query      string
	Timespan   string
	Columns    []chartColumn
	Rows       [][]string
	// Shown says how many rows of how many are in the table.
	Shown, Total int
	Chart        *chart
	Partial      string
	// Name is the table's name; More holds the tables after the first
	// when the query returns several.
	Name string
	More []*kqlData
}

// kqlPage shows the query form; a POST runs the query as the user through
// azlogs (Prefer: include-render=true) and shows the table and the chart.
func (c *Console) kqlPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Logs", User: s, KQL: &kqlData{Timespans: timespans, Timespan: "P1D"}}
	k := d.KQL
	ws, err := c.workspaces(r, s)
	if err != nil {
		d.Error = err.Error()
	}
	k.Workspaces = ws
	if r.Method != http.MethodPost {
		c.render(w, r, "kql", http.StatusOK, d)
		return
	}
	k.Workspace, k.Query, k.Timespan = r.PostForm.Get("workspace"), strings.TrimSpace(r.PostForm.Get("query")), r.PostForm.Get("timespan")
	known := false
	for _, ws := range k.Workspaces {
		known = known || strings.EqualFold(ws.ID, k.Workspace)
	}
	switch {
	case !known:
		d.Error = "Choose one of the workspaces you may read."
	case k.Query == "" || len(k.Query) > maxQueryLen:
		d.Error = fmt.Sprintf("Write a query of at most %d characters.", maxQueryLen)
	case !validTimespan(k.Timespan):
		d.Error = "Choose a time range."
	}
	if d.Error != "" {
		c.render(w, r, "kql", http.StatusBadRequest, d)
		return
	}
	status := http.StatusOK
	if err := c.runQuery(r.Context(), s, k); err != nil {
		c.opts.Logger.InfoContext(r.Context(), "console: query refused", "err", err.Error())
		d.Error, status = queryError(err)
	}
	c.render(w, r, "kql", status, d)
}

func validTimespan(t string) bool {
	for _, v := range timespans {
		if v == t {
			return true
		}
	}
	return false
}

// queryError is what the page says of a refused query: the API's code and
// message for a 4xx (the user's query or rights), a generic text otherwise.
func queryError(err error) (string, int) {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 {
		var body struct {
			Error struct {
				Code, Message string
				Innererror    struct{ Code, Message string }
			}
		}
		msg := re.ErrorCode
		if re.RawResponse != nil && re.RawResponse.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(re.RawResponse.Body, 64<<10))
			if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
				msg = body.Error.Code + ": " + body.Error.Message
				if body.Error.Innererror.Message != "" {
					msg += " " + body.Error.Innererror.Message
				}
			}
		}
		status := http.StatusBadRequest
		if re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized {
			status = http.StatusForbidden
		}
		return "The query was refused: " + msg, status
	}
	if errors.Is(err, errNoRefresh) {
		return "Sign in again to query logs.", http.StatusUnauthorized
	}
	return "The query could not be run; try again.", http.StatusBadGateway
}

// runQueries runs the queries of a page in turn and stops at the first
// refused one: msg and status say why ("" and 200 when all ran).
func (c *Console) runQueries(ctx context.Context, s *session, ks ...*kqlData) (msg string, status int) {
	for _, k := range ks {
		if err := c.runQuery(ctx, s, k); err != nil {
			c.opts.Logger.InfoContext(ctx, "console: query refused", "err", err.Error())
			return queryError(err)
		}
	}
	return "", http.StatusOK
}

// missingTable rewrites a query refusal that says the workspace has no
// such table (Log Analytics: "Failed to resolve table or column expression
// named ..."; Steward: "unknown table or name ...") as what it means for
// a page that reads that table.
func missingTable(msg, table, meaning string) string {
	l := strings.ToLower(msg)
	if strings.Contains(l, strings.ToLower(table)) && (strings.Contains(l, "unknown table") || strings.Contains(l, "resolve table")) {
		return meaning
	}
	return msg
}

// runQuery runs k's query on its workspace with the user's Log Analytics
// token and fills k with the table and the chart.
func (c *Console) runQuery(ctx context.Context, s *session, k *kqlData) error {
	client, err := azlogs.NewClient(userCredentialFor{c: c, s: s}, c.opts.Logs)
	if err != nil {
		return err
	}
	render, wait := true, queryWait
	resp, err := client.QueryResource(ctx, k.Workspace, azlogs.QueryBody{Query: &k.Query, Timespan: (*azlogs.TimeInterval)(&k.Timespan)},
		&azlogs.QueryResourceOptions{Options: &azlogs.QueryOptions{Visualization: &render, Wait: &wait}})
	if err != nil {
		return err
	}
	if resp.Error != nil {
		k.Partial = "The result is partial: the service stopped the query before its end."
	}
	if len(resp.Tables) == 0 {
		return nil
	}
	rows := fillTable(k, resp.Tables[0])
	// a query may return several tables (fork, facet, several statements):
	// each is shown under its name
	for _, t := range resp.Tables[1:] {
		more := &kqlData{}
		fillTable(more, t)
		k.More = append(k.More, more)
	}
	if len(resp.Visualization) > 0 {
		var v struct {
			Visualization string `json:"visualization"`
			Title         string `json:"title"`
		}
		if err := json.Unmarshal(resp.Visualization, &v); err == nil && v.Visualization != "" {
			ch := drawChart(strings.ToLower(v.Visualization), k.Columns, rows)
			ch.Title = v.Title
			k.Chart = &ch
		}
	}
	return nil
}

// fillTable fills k's columns and shown rows from t and returns all of
// t's rows (the chart reads them).
func fillTable(k *kqlData, t azlogs.Table) [][]any {
	if t.Name != nil {
		k.Name = *t.Name
	}
	for _, col := range t.Columns {
		cc := chartColumn{}
		if col.Name != nil {
			cc.Name = *col.Name
		}
		if col.Type != nil {
			cc.Type = string(*col.Type)
		}
		k.Columns = append(k.Columns, cc)
	}
	rows := make([][]any, len(t.Rows))
	for i, row := range t.Rows {
		rows[i] = row
	}
	k.Total = len(rows)
	for i, row := range rows {
		if i == maxShownRows {
			break
		}
		cells := make([]string, len(row))
		for j, v := range row {
			if v != nil {
				if s, ok := v.(string); ok {
					cells[j] = s
				} else {
					b, _ := json.Marshal(v)
					cells[j] = string(b)
				}
			}
		}
		k.Rows = append(k.Rows, cells)
	}
	k.Shown = len(k.Rows)
	return rows
}

// errNoRefresh says that the session holds no refresh token.
var errNoRefresh = errors.New("web: the session has no refresh token")

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// tokenFor returns the user's token for another API (Log Analytics, the
// vending API): a cached one, or one redeemed from the session's refresh
// token, as a web app does for a second API; the rotated refresh token is
// kept.
func (c *Console) tokenFor(ctx context.Context, s *session, scope string) (azcore.AccessToken, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	// Another request may have refreshed the session meanwhile.
	var cur session
	if ok, err := c.get(ctx, s.key, &cur); err == nil && ok {
		cur.key = s.key
		*s = cur
	}
	now := c.opts.Now()
	if t, ok := s.Tokens[scope]; ok && now.Add(time.Minute).Before(t.Expires) {
		return azcore.AccessToken{Token: t.Token, ExpiresOn: t.Expires}, nil
	}
	if s.RefreshToken == "" {
		return azcore.AccessToken{}, errNoRefresh
	}
	p, err := c.oidcProvider(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.RefreshToken}, "client_id": {c.opts.ClientID},
		"client_secret": {c.opts.ClientSecret}, "scope": {scope + " offline_access"}}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint().TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return azcore.AccessToken{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	defer resp.Body.Close()
	var a tokenAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil {
		return azcore.AccessToken{}, fmt.Errorf("web: token answer %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || a.AccessToken == "" {
		return azcore.AccessToken{}, fmt.Errorf("web: token for %s: %s", scope, a.Error)
	}
	t := grantedToken{Token: a.AccessToken, Expires: now.Add(time.Duration(a.ExpiresIn) * time.Second)}
	if s.Tokens == nil {
		s.Tokens = map[string]grantedToken{}
	}
	s.Tokens[scope] = t
	if a.RefreshToken != "" {
		s.RefreshToken = a.RefreshToken
	}
	if err := c.put(ctx, s.key, s); err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: t.Token, ExpiresOn: t.Expires}, nil
}
