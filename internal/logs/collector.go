package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// Data Collector API limits (Azure Monitor's documentation).
const (
	// CollectorAPIVersion is the only api-version the API accepts.
	CollectorAPIVersion = "2016-04-01"
	// MaxCollectorBody is the largest post, 30 MB.
	MaxCollectorBody = 30 << 20
	// MaxFieldBytes is where a field value is truncated, 32 KB.
	MaxFieldBytes = 32 << 10
	// MaxLogTypeLen is the length of a Log-Type.
	MaxLogTypeLen = 100
)

var logTypeRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// collectorError is the Data Collector API's error body.
type collectorError struct {
	Status  int    `json:"-"`
	Code    string `json:"Error"`
	Message string `json:"Message"`
}

func (e *collectorError) Error() string { return e.Code + ": " + e.Message }

func cerr(status int, code, format string, args ...any) *collectorError {
	return &collectorError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func writeCollectorError(w http.ResponseWriter, e *collectorError) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// CollectorHandler serves the HTTP Data Collector API,
// POST .../api/logs?api-version=2016-04-01. The workspace is the first
// label of the Host ({customerId}.ods.opinsights.azure.com), or the path
// segment before /api/logs (Steward's path form {prefix}/{customerId}/api/logs).
func (s *Service) CollectorHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.collect(r); e != nil {
			writeCollectorError(w, e)
			return
		}
		w.WriteHeader(http.StatusOK)
		s.maybePurge(r.Context())
	})
}

// collectorWorkspace finds the customerId a request addresses.
func collectorWorkspace(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if before, ok := strings.CutSuffix(strings.ToLower(p), "/api/logs"); ok {
		segs := strings.Split(before, "/")
		if last := segs[len(segs)-1]; last != "" {
			if _, err := uuid.Parse(last); err == nil {
				return last
			}
		}
	}
	host, _, _ := strings.Cut(r.Host, ":")
	label, _, _ := strings.Cut(host, ".")
	if _, err := uuid.Parse(label); err == nil {
		return label
	}
	return ""
}

func (s *Service) collect(r *http.Request) *collectorError {
	if r.Method != http.MethodPost {
		return cerr(http.StatusMethodNotAllowed, "MethodNotAllowed", "The Data Collector API accepts POST only.")
	}
	if !strings.HasSuffix(strings.ToLower(strings.TrimSuffix(r.URL.Path, "/")), collectorResource) {
		return cerr(http.StatusNotFound, "NotFound", "The provided URL is incorrect.")
	}
	q := r.URL.Query()
	switch v := q.Get("api-version"); {
	case !q.Has("api-version"):
		return cerr(http.StatusBadRequest, "MissingApiVersion", "The API version wasn't specified.")
	case v != CollectorAPIVersion:
		return cerr(http.StatusBadRequest, "InvalidApiVersion", "The API version %q isn't recognized by the service.", v)
	}
	cid := collectorWorkspace(r)
	if cid == "" {
		return cerr(http.StatusBadRequest, "InvalidCustomerId", "The workspace ID specified is invalid.")
	}
	ws, err := s.Workspace(r.Context(), cid)
	if errors.Is(err, ErrNoWorkspace) {
		return cerr(http.StatusBadRequest, "InvalidCustomerId", "The workspace ID %q is not known.", cid)
	} else if err != nil {
		return cerr(http.StatusInternalServerError, "UnspecifiedError", "The service encountered an internal error.")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return cerr(http.StatusBadRequest, "MissingContentType", "The content type wasn't specified.")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return cerr(http.StatusBadRequest, "UnsupportedContentType", "The content type %q is not application/json.", ct)
	}
	logType := r.Header.Get("Log-Type")
	if logType == "" {
		return cerr(http.StatusBadRequest, "MissingLogType", "The value type log wasn't specified.")
	}
	if len(logType) > MaxLogTypeLen || !logTypeRE.MatchString(logType) {
		return cerr(http.StatusBadRequest, "InvalidLogType",
			"The Log-Type %q must be letters, digits and underscores, at most %d characters.", logType, MaxLogTypeLen)
	}
	if r.ContentLength > MaxCollectorBody {
		return cerr(http.StatusNotFound, "RequestTooLarge", "The request is larger than %d bytes.", MaxCollectorBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxCollectorBody+1))
	if err != nil {
		return cerr(http.StatusBadRequest, "InvalidDataFormat", "The request body could not be read.")
	}
	if len(body) > MaxCollectorBody {
		return cerr(http.StatusNotFound, "RequestTooLarge", "The request is larger than %d bytes.", MaxCollectorBody)
	}
	date := r.Header.Get("x-ms-date")
	t, err := http.ParseTime(date)
	if err != nil {
		return cerr(http.StatusForbidden, "InvalidAuthorization", "An invalid date format used in the x-ms-date header.")
	}
	now := s.opts.Now()
	if d := now.Sub(t); d > s.opts.MaxClockSkew || d < -s.opts.MaxClockSkew {
		return cerr(http.StatusForbidden, "InvalidAuthorization",
			"The x-ms-date header is more than %s away from the server's time.", s.opts.MaxClockSkew)
	}
	if msg := checkSharedKey(ws, r.Header.Get("Authorization"), r.Method, int64(len(body)), ct, date); msg != "" {
		return cerr(http.StatusForbidden, "InvalidAuthorization", "%s", msg)
	}
	records, err := parseRecords(body)
	if err != nil {
		return cerr(http.StatusBadRequest, "InvalidDataFormat", "The request body is not valid JSON: %v", err)
	}
	table := logType + "_CL"
	existing, err := s.Rows.Table(r.Context(), ws.CustomerID, table)
	if err != nil && !errors.Is(err, ErrNoTable) {
		return cerr(http.StatusInternalServerError, "UnspecifiedError", "The service encountered an internal error.")
	}
	b := newCollectorBatch(existing, ws.CustomerID, table, r.Header.Get("x-ms-AzureResourceId"),
		r.Header.Get("time-generated-field"), now)
	for _, rec := range records {
		if err := b.add(rec); err != nil {
			return cerr(http.StatusBadRequest, "InvalidDataFormat", "%v", err)
		}
	}
	if err := s.Rows.Append(r.Context(), ws.CustomerID, table, b.cols, b.rows, Evolve); err != nil {
		return cerr(http.StatusInternalServerError, "UnspecifiedError", "The rows could not be stored: %v", err)
	}
	return nil
}

// parseRecords reads the body: a JSON array of objects, or one object.
func parseRecords(body []byte) ([]*kql.Bag, error) {
	v, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *kql.Bag:
		return []*kql.Bag{x}, nil
	case []any:
		out := make([]*kql.Bag, 0, len(x))
		for i, e := range x {
			b, ok := e.(*kql.Bag)
			if !ok {
				return nil, fmt.Errorf("element %d of the array is not an object", i)
			}
			out = append(out, b)
		}
		return out, nil
	}
	return nil, fmt.Errorf("the body must be a JSON object or an array of objects")
}
