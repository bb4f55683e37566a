package insights

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/policy"
)

// PageToken is what a nextLink's $skiptoken carries (JSON, base64): where
// the next page starts (a state key when states are read in key order, an offset into
// the sorted or aggregated rows otherwise) and how many records earlier
// pages returned, for $top.
type PageToken struct {
	// Key is the state key the next page starts at.
	Key string `json:"k,omitempty"`
	// Offset is the position of the next page among sorted or aggregated
	// rows.
	Offset int `json:"o,omitempty"`
	// Done counts the records earlier pages returned.
	Done int `json:"n,omitempty"`
}

func decodePageToken(s string) (PageToken, error) {
	var t PageToken
	if s == "" {
		return t, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.Offset < 0 || t.Done < 0 {
		return t, arm.BadRequest("InvalidSkipToken", "The $skiptoken query parameter is invalid or has expired.")
	}
	return t, nil
}

// Page is one page of query results: rows and the token of the next page
// ("" at the end).
type Page struct {
	Rows []Row
	Next string
}

// Run executes a query from the page token tok. prefix is the state-key
// prefix of the query's scope.
func (e *Engine) Run(ctx context.Context, q *Query, prefix string, tok PageToken) (Page, error) {
	rc := e.rowContext(ctx)
	size := PageSize
	if q.Top >= 0 {
		size = min(size, q.Top-tok.Done)
		if size <= 0 {
			return Page{}, nil
		}
	}
	if q.Apply == nil && len(q.OrderBy) == 0 {
		var rows []Row
		resume, err := e.scanStates(ctx, prefix, tok.Key, pageMode(q), func(s *State) bool {
			if !q.matches(s, rc) {
				return true
			}
			if len(rows) == size {
				return false
			}
			rows = append(rows, stateRow{s: s, ctx: rc})
			return true
		})
		if err != nil {
			return Page{}, err
		}
		p := Page{Rows: rows}
		if resume != "" && (q.Top < 0 || tok.Done+len(rows) < q.Top) {
			p.Next = encodeToken(PageToken{Key: resume, Done: tok.Done + len(rows)})
		}
		return p, nil
	}
	var rows []Row
	if _, err := e.scanStates(ctx, prefix, "", allMode(q), func(s *State) bool {
		if q.matches(s, rc) {
			rows = append(rows, stateRow{s: s, ctx: rc})
		}
		return true
	}); err != nil {
		return Page{}, err
	}
	if q.Apply != nil {
		rows = q.Apply.Run(rows)
	}
	if len(q.OrderBy) > 0 {
		sortRows(rows, q.OrderBy)
	}
	if tok.Offset > len(rows) {
		return Page{}, nil
	}
	end := min(tok.Offset+size, len(rows))
	p := Page{Rows: rows[tok.Offset:end]}
	if end < len(rows) && (q.Top < 0 || tok.Done+len(p.Rows) < q.Top) {
		p.Next = encodeToken(PageToken{Offset: end, Done: tok.Done + len(p.Rows)})
	}
	return p, nil
}

// pageMode reads a page in key order: from the cache when it holds the
// scope, else from the store, stopping at the page's end.
func pageMode(q *Query) readMode {
	if q.Expand {
		return readStore
	}
	return readCachedIfPresent
}

// allMode reads every state of the scope (to aggregate or sort them).
func allMode(q *Query) readMode {
	if q.Expand {
		return readStore
	}
	return readCached
}

func encodeToken(t PageToken) string {
	b, _ := json.Marshal(t)
	return string(b)
}

// rowContext collects what rows report about assignments.
func (e *Engine) rowContext(ctx context.Context) *rowContext {
	ps, err := e.current(ctx)
	if err != nil {
		return &rowContext{}
	}
	return &rowContext{assignments: ps.info}
}

// render turns a row into the JSON object of a PolicyState record.
// contextURL is the @odata.context of the records.
func render(r Row, q *Query, contextURL string) map[string]any {
	out := map[string]any{"@odata.id": nil, "@odata.context": contextURL}
	if sr, ok := r.(stateRow); ok && len(q.Select) == 0 {
		for lower, name := range stateFields {
			v, _ := sr.Get(lower)
			out[name] = jsonValue(v)
		}
		out["effectiveParameters"] = out["policyAssignmentParameters"]
		if q.Expand && len(sr.s.Expressions) > 0 {
			out["policyEvaluationDetails"] = map[string]any{"evaluatedExpressions": expressions(sr.s.Expressions)}
		}
		return out
	}
	if len(q.Select) > 0 {
		for _, f := range q.Select {
			v, _ := r.Get(f.Field)
			name := f.Name
			if n, ok := stateFields[f.Field]; ok {
				name = n
			} else if m, ok := r.(*mapRow); ok {
				name = m.spelling(f.Field, f.Name)
			}
			out[name] = jsonValue(v)
		}
		return out
	}
	if m, ok := r.(*mapRow); ok {
		for _, n := range m.names {
			out[n] = jsonValue(m.vals[strings.ToLower(n)])
		}
	}
	return out
}

// spelling is the output name of a row's column.
func (m *mapRow) spelling(lower, fallback string) string {
	for _, n := range m.names {
		if strings.ToLower(n) == lower {
			return n
		}
	}
	return fallback
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return formatTime(x)
	case []string:
		if x == nil {
			return []string{}
		}
	}
	return v
}

// expressions renders evaluated conditions in the spec's
// ExpressionEvaluationDetails shape, where result is the string "True" or
// "False".
func expressions(xs []policy.EvaluatedExpression) []map[string]any {
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		result := "False"
		if x.Result {
			result = "True"
		}
		out[i] = map[string]any{"result": result, "expressionKind": x.ExpressionKind, "expression": x.Expression,
			"path": x.Path, "expressionValue": x.ExpressionValue, "targetValue": x.TargetValue, "operator": x.Operator}
	}
	return out
}
