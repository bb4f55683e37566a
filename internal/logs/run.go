package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/steward-gov/steward/internal/logs/kql"
)

// queryResult is a query's result shaped for the API.
type queryResult struct {
	tables    []kql.APITable
	render    *kql.APIRenderation
	truncated bool
}

// RunQuery runs a KQL query over a workspace's tables restricted to win,
// streaming at most MaxResultRows rows. Errors are query API errors:
// syntax errors with their line and position, semantic errors, timeouts.
func (s *Service) RunQuery(ctx context.Context, workspace, query string, win Window) (*queryResult, *QueryError) {
	q, err := kql.Parse(query)
	if err != nil {
		return nil, queryErr(err)
	}
	plan, err := kql.Compile(ctx, q, kql.Options{Source: s.Rows.Source(workspace, win), Now: s.opts.Now})
	if err != nil {
		return nil, queryErr(err)
	}
	it, err := plan.Open(ctx)
	if err != nil {
		return nil, queryErr(err)
	}
	defer it.Close()
	res := &kql.Result{Columns: plan.Columns(), Render: plan.Render()}
	out := &queryResult{}
	for {
		row, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, queryErr(err)
		}
		if len(res.Rows) == MaxResultRows {
			out.truncated = true
			break
		}
		res.Rows = append(res.Rows, row)
	}
	api := res.QueryResponse()
	out.tables, out.render = api.Tables, api.Render
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
	switch {
	case errors.As(err, &se):
		return badArgument("SyntaxError", fmt.Sprintf("A recognition error occurred in the query: %s", se.Msg), &se.Pos)
	case errors.As(err, &ce):
		return badArgument("SemanticError", fmt.Sprintf("A semantic error occurred: %s", ce.Msg), &ce.Pos)
	case errors.Is(err, kql.ErrNoTable):
		return badArgument("SemanticError", err.Error(), nil)
	case errors.Is(err, context.DeadlineExceeded):
		return &QueryError{Status: http.StatusGatewayTimeout, Body: queryErrBody{Code: "GatewayTimeout",
			Message: "The query exceeded the allowed execution time"}}
	case errors.Is(err, context.Canceled):
		return &QueryError{Status: 499, Body: queryErrBody{Code: "ClientClosedRequest", Message: "The request was cancelled"}}
	}
	return badArgument("EvaluationError", err.Error(), nil)
}
