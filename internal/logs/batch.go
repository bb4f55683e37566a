package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBatchQueries is how many queries one $batch request may carry.
const MaxBatchQueries = 10

// batchRequest is the body of POST {prefix}/$batch.
type batchRequest struct {
	Requests []batchItem `json:"requests"`
}

// batchItem is one query of a batch: an ID the answer repeats, the
// workspace, and the body and headers (Prefer) of a query request.
type batchItem struct {
	ID        string            `json:"id"`
	Workspace string            `json:"workspace"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
}

// batchAnswer is one entry of the answer's "responses".
type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body"`
}

// BatchHandler serves the query API's POST {prefix}/$batch: up to
// MaxBatchQueries queries, each run as POST
// {prefix}/workspaces/{workspace}/query would run it (same authorization,
// limits and errors), answered together with 200 and one entry per query,
// carrying its own status and body. A body that cannot be understood is a
// 400 for the whole batch. Callers are authenticated before.
func (s *Service) BatchHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		answers, qe := s.serveBatch(r)
		if qe != nil {
			qe.Body.CorrelationID = s.opts.NewID()
			w.WriteHeader(qe.Status)
			_ = json.NewEncoder(w).Encode(qe)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"responses": answers})
	})
}

func (s *Service) serveBatch(r *http.Request) ([]batchAnswer, *QueryError) {
	if r.Method != http.MethodPost {
		return nil, &QueryError{Status: http.StatusMethodNotAllowed, Body: queryErrBody{Code: "MethodNotAllowed",
			Message: "The batch API accepts POST only"}}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBody+1))
	if err != nil || len(b) > maxQueryBody {
		return nil, badArgument("InvalidBody", "the request body could not be read or is larger than 1 MB", nil)
	}
	var req batchRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&req); err != nil {
		return nil, badArgument("InvalidBody", "the request body is not valid JSON: "+err.Error(), nil)
	}
	switch n := len(req.Requests); {
	case n == 0:
		return nil, badArgument("InvalidBody", "the batch must hold at least one request in \"requests\"", nil)
	case n > MaxBatchQueries:
		return nil, badArgument("InvalidBody", fmt.Sprintf("the batch holds %d requests; at most %d are allowed", n, MaxBatchQueries), nil)
	}
	seen := map[string]bool{}
	for i, it := range req.Requests {
		switch {
		case it.ID == "":
			return nil, badArgument("InvalidBody", fmt.Sprintf("request %d has no id", i), nil)
		case seen[it.ID]:
			return nil, badArgument("InvalidBody", fmt.Sprintf("the id %q is used by two requests", it.ID), nil)
		case it.Workspace == "" || strings.ContainsAny(it.Workspace, "/?#"):
			return nil, badArgument("InvalidBody", fmt.Sprintf("request %q needs a workspace ID", it.ID), nil)
		case it.Method != "" && !strings.EqualFold(it.Method, http.MethodPost):
			return nil, badArgument("InvalidBody", fmt.Sprintf("request %q: method %q; only POST is supported", it.ID, it.Method), nil)
		case it.Path != "" && it.Path != "/query":
			return nil, badArgument("InvalidBody", fmt.Sprintf("request %q: path %q; only /query is supported", it.ID, it.Path), nil)
		case len(it.Body) == 0:
			return nil, badArgument("InvalidBody", fmt.Sprintf("request %q has no body", it.ID), nil)
		}
		seen[it.ID] = true
	}
	answers := make([]batchAnswer, 0, len(req.Requests))
	for _, it := range req.Requests {
		sub, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/v1/workspaces/"+it.Workspace+"/query", bytes.NewReader(it.Body))
		if err != nil {
			return nil, badArgument("InvalidBody", fmt.Sprintf("request %q: %v", it.ID, err), nil)
		}
		sub.Header.Set("Content-Type", "application/json")
		for k, v := range it.Headers {
			sub.Header.Set(k, v)
		}
		resp, applied, qe := s.serveQuery(sub)
		a := batchAnswer{ID: it.ID, Status: http.StatusOK, Body: resp}
		if qe != nil {
			qe.Body.CorrelationID = s.opts.NewID()
			a.Status, a.Body = qe.Status, qe
		} else if len(applied) > 0 {
			a.Headers = map[string]string{"Preference-Applied": strings.Join(applied, ",")}
		}
		answers = append(answers, a)
	}
	return answers, nil
}
