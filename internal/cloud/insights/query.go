package insights

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// PageSize is how many policy states a queryResults page holds at most,
// as on Azure; $top asks for fewer (or caps the total across pages).
const PageSize = 1000

// Query is a parsed queryResults or summarize request.
type Query struct {
	// Latest is true for policyStates/latest, false for default.
	Latest bool
	// Scope is the ARM scope the states are under; Keep further limits them
	// (to an assignment, a definition, a management group).
	Scope string
	Keep  func(*State) bool
	// From and To bound the states' timestamps (inclusive).
	From, To time.Time
	Filter   Expr
	Apply    *Apply
	OrderBy  []OrderKey
	Select   []OrderKey
	// Top caps the number of records; -1 for no cap.
	Top int
	// Expand adds policyEvaluationDetails to each state.
	Expand bool
}

// badQuery is the 400 a malformed query parameter answers with.
func badQuery(param string, err error) *arm.Error {
	var se *SyntaxError
	if errors.As(err, &se) {
		return arm.BadRequest("InvalidQueryParameterValue", "The value of the query parameter '%s' is invalid: %s.", param, se.Msg)
	}
	return arm.BadRequest("InvalidQueryParameterValue", "The value of the query parameter '%s' is invalid: %v.", param, err)
}

// queryParam reads a query parameter case-insensitively ($Filter and
// $filter are the same parameter).
func queryParam(q url.Values, name string) (string, bool) {
	for k, vs := range q {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// parseQuery reads the OData parameters of a request. now is the request
// time ($to's default).
func parseQuery(q url.Values, now time.Time) (*Query, error) {
	out := &Query{Top: -1, To: now}
	var err error
	if s, ok := queryParam(q, "$to"); ok && s != "" {
		if out.To, err = parseTimeParam(s); err != nil {
			return nil, badQuery("$to", err)
		}
	}
	out.From = out.To.Add(-24 * time.Hour)
	if s, ok := queryParam(q, "$from"); ok && s != "" {
		if out.From, err = parseTimeParam(s); err != nil {
			return nil, badQuery("$from", err)
		}
	}
	if out.From.After(out.To) {
		return nil, arm.BadRequest("InvalidQueryParameterValue", "The value of '$from' must not be later than '$to'.")
	}
	if s, ok := queryParam(q, "$top"); ok && s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, arm.BadRequest("InvalidQueryParameterValue", "The value of the query parameter '$top' must be a non-negative integer.")
		}
		out.Top = n
	}
	if s, ok := queryParam(q, "$filter"); ok && strings.TrimSpace(s) != "" {
		if out.Filter, err = ParseFilter(s); err != nil {
			return nil, badQuery("$filter", err)
		}
	}
	known := stateFields
	if s, ok := queryParam(q, "$apply"); ok && strings.TrimSpace(s) != "" {
		if out.Apply, err = ParseApply(s); err != nil {
			return nil, badQuery("$apply", err)
		}
		known = out.Apply.output()
	}
	if s, ok := queryParam(q, "$orderby"); ok && strings.TrimSpace(s) != "" {
		if out.OrderBy, err = ParseOrderBy(s, known); err != nil {
			return nil, badQuery("$orderby", err)
		}
	}
	if s, ok := queryParam(q, "$select"); ok && strings.TrimSpace(s) != "" {
		if out.Select, err = ParseSelect(s, known); err != nil {
			return nil, badQuery("$select", err)
		}
	}
	if s, ok := queryParam(q, "$expand"); ok && s != "" {
		for _, part := range strings.Split(s, ",") {
			switch strings.ToLower(strings.TrimSpace(part)) {
			case "policyevaluationdetails":
				out.Expand = true
			case "components", "":
			default:
				return nil, arm.BadRequest("InvalidQueryParameterValue", "The value of the query parameter '$expand' is invalid: %q cannot be expanded.", truncate(part, 60))
			}
		}
	}
	return out, nil
}

// output is what the rows after the apply have: the last grouping step's
// keys and aggregates, or the state's properties when every step filters.
func (a *Apply) output() map[string]string {
	known := stateFields
	for _, st := range a.Steps {
		if st.Filter != nil {
			continue
		}
		known = map[string]string{}
		for _, k := range st.GroupBy {
			known[k.Field] = outName(k)
		}
		for _, ag := range st.Aggregates {
			known[strings.ToLower(ag.As)] = ag.As
		}
	}
	return known
}

func parseTimeParam(s string) (time.Time, error) {
	if t, ok := parseTime(strings.TrimSpace(s)); ok {
		return t.UTC(), nil
	}
	return time.Time{}, errors.New("not an ISO 8601 date-time")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// matches reports whether a state passes the query's scope, time window
// and filter.
func (q *Query) matches(s *State, ctx *rowContext) bool {
	if s.Timestamp.Before(q.From) || s.Timestamp.After(q.To) {
		return false
	}
	if q.Keep != nil && !q.Keep(s) {
		return false
	}
	return q.Filter == nil || q.Filter.Eval(stateRow{s: s, ctx: ctx})
}

// notSupportedGET is Azure's answer to a GET of queryResults (a nextLink
// followed with GET, as SDK pagers do): the query actions are POST only.
func notSupportedMethod(method, action string) *arm.Error {
	if method == http.MethodGet {
		return arm.NotFound("ResourceTypeNotSupported", "Unsupported resource type: 'Microsoft.PolicyInsights/policyStates/%s'.", action)
	}
	return arm.Errorf(http.StatusMethodNotAllowed, "HttpMethodNotSupported", "The http method '%s' is not supported for '%s'.", truncate(method, 10), action)
}
