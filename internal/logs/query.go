package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// Query API limits: Log Analytics returns at most 500,000 rows and waits
// at most 10 minutes (3 by default).
const (
	MaxResultRows    = kql.DefaultMaxRecords
	DefaultQueryWait = 3 * time.Minute
	MaxQueryWait     = 10 * time.Minute
	maxQueryBody     = 1 << 20
)

// DefaultTransformLimits bound one run of a DCR's transformKql: its input
// is one request's records (at most MaxIngestionBody), so a transform that
// needs more than 64 MiB or 10 seconds is refused rather than waited for.
var DefaultTransformLimits = kql.Limits{MaxMemory: 64 << 20, Timeout: 10 * time.Second, MaxRecords: -1, MaxResultBytes: -1}

// queryBody is the POST body of the query API.
type queryBody struct {
	Query      string   `json:"query"`
	Timespan   string   `json:"timespan"`
	Workspaces []string `json:"workspaces"`
}

// QueryError is an error of the query API, in Azure's shape:
// {"error":{"message","code","correlationId","innererror":{...}}}.
type QueryError struct {
	Status int          `json:"-"`
	Body   queryErrBody `json:"error"`
}

type queryErrBody struct {
	Message       string           `json:"message"`
	Code          string           `json:"code"`
	CorrelationID string           `json:"correlationId,omitempty"`
	Details       []queryErrDetail `json:"details,omitempty"`
	Inner         *queryInnerBody  `json:"innererror,omitempty"`
}

// queryErrDetail is one entry of a partial error's details.
type queryErrDetail struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Inner   *queryInnerBody `json:"innererror,omitempty"`
}

type queryInnerBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Line    int             `json:"line,omitempty"`
	Pos     int             `json:"pos,omitempty"`
	Inner   *queryInnerBody `json:"innererror,omitempty"`
}

func (e *QueryError) Error() string { return e.Body.Code + ": " + e.Body.Message }

func badArgument(innerCode, msg string, pos *kql.Pos) *QueryError {
	in := &queryInnerBody{Code: innerCode, Message: msg}
	if pos != nil {
		in.Line, in.Pos = pos.Line, pos.Col
	}
	return &QueryError{Status: http.StatusBadRequest, Body: queryErrBody{
		Message: "The request had some invalid properties", Code: "BadArgumentError", Inner: in}}
}

// QueryHandler serves the Log Analytics query API:
// GET or POST {prefix}/workspaces/{customerId}/query, and the
// resource-centric {prefix}/{workspace resource ID}/query. Callers are
// authenticated before (a bearer token for https://api.loganalytics.io);
// the handler checks the query action on the workspace.
func (s *Service) QueryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cid := s.opts.NewID()
		resp, applied, qe := s.serveQuery(r)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if qe != nil {
			qe.Body.CorrelationID = cid
			if qe.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "10")
			}
			w.WriteHeader(qe.Status)
			_ = json.NewEncoder(w).Encode(qe)
			return
		}
		if len(applied) > 0 {
			w.Header().Set("Preference-Applied", strings.Join(applied, ","))
		}
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// queryPath extracts the workspace of .../workspaces/{id}/query, where id
// is a customerId or, for resource-centric queries
// ({prefix}/subscriptions/.../workspaces/{name}/query), the ARM ID.
func queryPath(path string) (id string, isResource bool, ok bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	n := len(segs)
	if n < 3 || !strings.EqualFold(segs[n-1], "query") || !strings.EqualFold(segs[n-3], "workspaces") {
		return "", false, false
	}
	for i, s := range segs {
		if strings.EqualFold(s, "subscriptions") {
			return "/" + strings.Join(segs[i:n-1], "/"), true, true
		}
	}
	return segs[n-2], false, true
}

// queryResponse is the API's body: the result tables, and statistics and
// render when the client asked for them.
type queryResponse struct {
	Tables     []kql.APITable      `json:"tables"`
	Statistics map[string]any      `json:"statistics,omitempty"`
	Render     *kql.APIRenderation `json:"render,omitempty"`
	Error      *queryErrBody       `json:"error,omitempty"`
}

func (s *Service) serveQuery(r *http.Request) (resp *queryResponse, applied []string, qe *QueryError) {
	defer func() {
		if p := recover(); p != nil {
			resp, applied, qe = nil, nil, badArgument("EngineError", fmt.Sprintf("the query failed: %v", p), nil)
		}
	}()
	wsID, isResource, ok := queryPath(r.URL.Path)
	if !ok {
		return nil, nil, &QueryError{Status: http.StatusNotFound, Body: queryErrBody{Code: "PathNotFoundError",
			Message: "The requested path does not exist"}}
	}
	var body queryBody
	switch r.Method {
	case http.MethodGet:
		body.Query, body.Timespan = r.URL.Query().Get("query"), r.URL.Query().Get("timespan")
	case http.MethodPost:
		b, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBody+1))
		if err != nil || len(b) > maxQueryBody {
			return nil, nil, badArgument("InvalidBody", "the request body could not be read or is larger than 1 MB", nil)
		}
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, nil, badArgument("InvalidBody", "the request body is not valid JSON: "+err.Error(), nil)
		}
	default:
		return nil, nil, &QueryError{Status: http.StatusMethodNotAllowed, Body: queryErrBody{Code: "MethodNotAllowed",
			Message: "The query API accepts GET and POST"}}
	}
	if strings.TrimSpace(body.Query) == "" {
		return nil, nil, badArgument("QueryValidationError", "the query is empty", nil)
	}
	var ws Workspace
	var err error
	if isResource {
		ws, err = s.WorkspaceByResourceID(r.Context(), wsID)
	} else {
		ws, err = s.Workspace(r.Context(), wsID)
	}
	if err != nil {
		if errors.Is(err, ErrNoWorkspace) || arm.ClassOf(err) == arm.ClassInvalid {
			return nil, nil, &QueryError{Status: http.StatusNotFound, Body: queryErrBody{Code: "WorkspaceNotFoundError",
				Message: "The workspace could not be found"}}
		}
		return nil, nil, &QueryError{Status: http.StatusInternalServerError, Body: queryErrBody{Code: "InternalServerError",
			Message: "The workspace could not be read"}}
	}
	if err := s.authorize(r.Context(), ActionQuery, false, ws.ResourceID); err != nil {
		return nil, nil, &QueryError{Status: http.StatusForbidden, Body: queryErrBody{Code: "InsufficientAccessError",
			Message: "The provided credentials have insufficient access to perform the requested operation",
			Inner:   &queryInnerBody{Code: "AuthorizationFailed", Message: err.Error()}}}
	}
	now := s.opts.Now()
	win, err := ParseTimespan(body.Timespan, now)
	if err != nil {
		return nil, nil, badArgument("InvalidTimespan", err.Error(), nil)
	}
	prefs := parsePrefer(r.Header.Values("Prefer"))
	wait := min(DefaultQueryWait, s.opts.MaxQueryWait)
	if v, ok := prefs["wait"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			wait = min(time.Duration(n)*time.Second, s.opts.MaxQueryWait)
			applied = append(applied, "wait="+v)
		}
	}
	// The time budget covers the wait in the queue and the run; the
	// request's context also ends the query when the client goes away.
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	release, err := s.opts.Gate.Enter(ctx)
	if err != nil {
		return nil, nil, queryErr(err)
	}
	defer release()
	start := time.Now()
	res, qe := s.RunQuery(ctx, ws.CustomerID, body.Query, win)
	if qe != nil {
		return nil, nil, qe
	}
	resp = &queryResponse{Tables: res.tables}
	if res.partial != nil {
		// Kusto's partial query failure: the rows read so far, and the
		// reason beside them
		msg := res.partial.Error()
		resp.Error = &queryErrBody{Code: "PartialError", Message: "There were some errors when processing your query.",
			Details: []queryErrDetail{{Code: "EngineError", Message: msg, Inner: &queryInnerBody{Code: res.partial.Code, Message: msg}}},
			Inner:   &queryInnerBody{Code: "EngineError", Message: msg}}
	}
	if prefs["include-statistics"] == "true" {
		// one dataset entry per result table
		sets := make([]any, len(res.tables))
		for i, t := range res.tables {
			sets[i] = map[string]any{"tableRowCount": len(t.Rows)}
		}
		resp.Statistics = map[string]any{"query": map[string]any{
			"executionTime": time.Since(start).Seconds(), "datasetStatistics": sets}}
		applied = append(applied, "include-statistics=true")
	}
	if prefs["include-render"] == "true" {
		resp.Render = res.render
		applied = append(applied, "include-render=true")
	}
	return resp, applied, nil
}

// parsePrefer splits Prefer headers into their name=value preferences.
func parsePrefer(values []string) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if k != "" {
				out[strings.ToLower(k)] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return out
}
