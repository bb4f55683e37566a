package logs

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// Logs Ingestion API constants.
const (
	// IngestionAPIVersion is the api-version of the Logs Ingestion API.
	IngestionAPIVersion = "2023-01-01"
	// MaxIngestionBody is the 1 MB limit on a call, compressed or not.
	MaxIngestionBody = 1 << 20
	// MaxIngestionField is where a string value is truncated, 64 KB.
	MaxIngestionField = 64 << 10
)

// ingestError is the Logs Ingestion API's error envelope.
type ingestError struct {
	Status int `json:"-"`
	Body   struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func ierr(status int, code, format string, args ...any) *ingestError {
	e := &ingestError{Status: status}
	e.Body.Code, e.Body.Message = code, fmt.Sprintf(format, args...)
	return e
}

// IngestionHandler serves the Logs Ingestion API:
// POST {endpoint}/dataCollectionRules/{immutableId}/streams/{stream}?api-version=2023-01-01.
// Callers are authenticated before (a bearer token for
// https://monitor.azure.com); the handler checks the ingestion data action
// on the rule. It answers 204 once the rows are durable.
func (s *Service) IngestionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.ingest(r); e != nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("x-ms-error-code", e.Body.Code)
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(e)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		s.maybePurge(r.Context())
	})
}

// ingestionPath extracts the rule and stream of a request path.
func ingestionPath(path string) (rule, stream string, ok bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	n := len(segs)
	if n < 4 || !strings.EqualFold(segs[n-4], "dataCollectionRules") || !strings.EqualFold(segs[n-2], "streams") {
		return "", "", false
	}
	return segs[n-3], segs[n-1], segs[n-3] != "" && segs[n-1] != ""
}

func (s *Service) ingest(r *http.Request) *ingestError {
	rule, stream, ok := ingestionPath(r.URL.Path)
	if !ok {
		return ierr(http.StatusNotFound, "NotFound", "The path must be /dataCollectionRules/{immutableId}/streams/{stream}.")
	}
	if r.Method != http.MethodPost {
		return ierr(http.StatusMethodNotAllowed, "MethodNotAllowed", "The Logs Ingestion API accepts POST only.")
	}
	if v := r.URL.Query().Get("api-version"); !arm.IsPublishedAPIVersion(arm.SpecLogsIngest, v) {
		return ierr(http.StatusBadRequest, "InvalidApiVersion", "The api-version '%s' is not supported; use %s.", v, IngestionAPIVersion)
	}
	if r.ContentLength > MaxIngestionBody {
		return ierr(http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", "The request is larger than %d bytes.", MaxIngestionBody)
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxIngestionBody+1))
	if err != nil {
		return ierr(http.StatusBadRequest, "InvalidContent", "The request body could not be read.")
	}
	if len(raw) > MaxIngestionBody {
		return ierr(http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", "The request is larger than %d bytes.", MaxIngestionBody)
	}
	body := raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			return ierr(http.StatusBadRequest, "InvalidContentEncoding", "The body is not valid gzip.")
		}
		body, err = io.ReadAll(io.LimitReader(zr, MaxIngestionBody+1))
		if err != nil {
			return ierr(http.StatusBadRequest, "InvalidContentEncoding", "The body is not valid gzip.")
		}
		if len(body) > MaxIngestionBody {
			return ierr(http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", "The decompressed request is larger than %d bytes.", MaxIngestionBody)
		}
	default:
		return ierr(http.StatusBadRequest, "InvalidContentEncoding", "The Content-Encoding '%s' is not supported.", enc)
	}
	dcr, err := s.lookupDCR(r.Context(), rule)
	if errors.Is(err, errNoDCR) || arm.ClassOf(err) == arm.ClassInvalid {
		return ierr(http.StatusNotFound, "NotFound", "Data collection rule with immutable Id '%s' not found.", rule)
	} else if err != nil {
		return ierr(http.StatusInternalServerError, "InternalServerError", "The data collection rule could not be read.")
	}
	if err := s.authorize(r.Context(), ActionIngest, true, dcr.ResourceID); err != nil {
		return ierr(http.StatusForbidden, "OperationFailed",
			"The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '%s'.", rule)
	}
	cols, ok := dcr.Streams[stream]
	if !ok {
		return ierr(http.StatusBadRequest, "InvalidStream", "Stream '%s' is not declared in data collection rule '%s'.", stream, rule)
	}
	records, err := parseRecords(body)
	if err != nil {
		return ierr(http.StatusBadRequest, "InvalidContent", "The request body is not a JSON array of objects: %v", err)
	}
	input := toStreamRows(cols, records)
	for _, f := range dcr.Flows {
		if !containsFold(f.Streams, stream) {
			continue
		}
		res, err := s.applyTransform(r.Context(), f.Transform, input)
		if err != nil {
			return ierr(http.StatusBadRequest, "TransformFailed", "The transformation of stream '%s' failed: %v", stream, err)
		}
		for _, ws := range f.Workspaces {
			if err := s.Rows.Append(r.Context(), ws, f.Table, res.Columns, res.Rows, Fixed); err != nil {
				if errors.Is(err, ErrNoTable) {
					return ierr(http.StatusBadRequest, "InvalidOutputTable", "The output table '%s' does not exist in the destination workspace.", f.Table)
				}
				return ierr(http.StatusInternalServerError, "InternalServerError", "The rows could not be stored.")
			}
		}
	}
	return nil
}

// toStreamRows types records by a stream declaration: properties the
// declaration does not list are dropped, values that do not convert are
// null.
func toStreamRows(cols []Column, records []*kql.Bag) *kql.MemTable {
	t := &kql.MemTable{Columns: make([]kql.Column, len(cols))}
	for i, c := range cols {
		t.Columns[i] = kql.Column{Name: c.Name, Type: c.Type}
	}
	for _, rec := range records {
		row := make(kql.Row, len(cols))
		for i, c := range cols {
			x, ok := rec.Get(c.Name)
			if !ok {
				row[i] = kql.Null(c.Type)
				if c.Type == kql.TypeString {
					row[i] = kql.String("")
				}
				continue
			}
			v, _ := coerce(x, c.Type)
			if v.T == kql.TypeString {
				v = kql.String(truncateUTF8(v.AsString(), MaxIngestionField))
			}
			row[i] = v
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// applyTransform runs a DCR's transformKql over the input rows, as the
// table "source", under the governor of Options.TransformLimits.
func (s *Service) applyTransform(ctx context.Context, transform string, input *kql.MemTable) (*kql.Result, error) {
	src := &kql.MemSource{Tables: map[string]*kql.MemTable{"source": input}}
	return kql.Run(ctx, transform, kql.Options{Source: src, Now: s.opts.Now, Limits: s.opts.TransformLimits, GeoIP: s.opts.GeoIP})
}

// trialTransforms runs each flow's transformKql over an empty input of each
// declared stream it reads: a transform that does not compile against its
// stream, or trips the governor while folding its constants, is refused
// when the rule is written rather than on every ingestion.
func (s *Service) trialTransforms(ctx context.Context, d *DCR) error {
	for i, f := range d.Flows {
		for _, stream := range f.Streams {
			cols, ok := d.Streams[stream]
			if !ok {
				continue
			}
			if _, err := s.applyTransform(ctx, f.Transform, toStreamRows(cols, nil)); err != nil {
				return arm.BadRequest("InvalidTransformQuery", "Data flow %d: the transformation of stream '%s' failed: %v", i, stream, err)
			}
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
