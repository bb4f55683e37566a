package logs

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/steward-gov/steward/internal/logs/kql"
)

// queryResult is a query's result shaped for the API; partial is set
// when the governor truncated it.
type queryResult struct {
	tables  []kql.APITable
	render  *kql.APIRenderation
	partial *kql.LimitError
}

// RunQuery runs a KQL query over a workspace's tables restricted to win,
// answering with every result table the query returns (fork, facet,
// funnel_sequence, several statements),
// under the governor of Options.QueryLimits: the result is truncated at
// its record and size limits (a partial result), and a query that goes
// over its memory budget, nests too deep or runs out of time fails.
// Errors are query API errors: syntax errors with their line and
// position, semantic errors, limits, timeouts.
func (s *Service) RunQuery(ctx context.Context, workspace, query string, win Window) (*queryResult, *QueryError) {
	rs, err := kql.RunTables(ctx, query, kql.Options{Source: s.Rows.Source(workspace, win), Now: s.opts.Now, Limits: s.opts.QueryLimits,
		GeoIP: s.opts.GeoIP})
	if err != nil {
		return nil, queryErr(err)
	}
	api := kql.TablesResponse(rs)
	// a truncated table is the last one returned
	out := &queryResult{tables: api.Tables, render: api.Render, partial: rs[len(rs)-1].Partial}
	for i := range out.tables {
		if out.tables[i].Rows == nil {
			out.tables[i].Rows = [][]any{}
		}
	}
	return out, nil
}

// queryErr maps an engine error to the query API's error.
func queryErr(err error) *QueryError {
	var se *kql.SyntaxError
	var ce *kql.CompileError
	var le *kql.LimitError
	switch {
	case errors.As(err, &se):
		return badArgument("SyntaxError", fmt.Sprintf("A recognition error occurred in the query: %s", se.Msg), &se.Pos)
	case errors.As(err, &ce):
		return badArgument("SemanticError", fmt.Sprintf("A semantic error occurred: %s", ce.Msg), &ce.Pos)
	case errors.Is(err, kql.ErrNoTable):
		return badArgument("SemanticError", err.Error(), nil)
	case errors.Is(err, kql.ErrThrottled):
		return &QueryError{Status: http.StatusTooManyRequests, Body: queryErrBody{Code: "ThrottledError",
			Message: "Too many queries are running or waiting; retry later"}}
	case errors.As(err, &le) && le.Code != kql.CodeTimeout && le.Code != kql.CodeCancelled:
		return badArgument(le.Code, le.Error(), nil)
	case errors.Is(err, context.DeadlineExceeded):
		return &QueryError{Status: http.StatusGatewayTimeout, Body: queryErrBody{Code: "GatewayTimeout",
			Message: "The query exceeded the allowed execution time"}}
	case errors.Is(err, context.Canceled):
		return &QueryError{Status: 499, Body: queryErrBody{Code: "ClientClosedRequest", Message: "The request was cancelled"}}
	}
	return badArgument("EvaluationError", err.Error(), nil)
}
