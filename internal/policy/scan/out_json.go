package scan

import (
	"encoding/json"
	"fmt"
	"io"
)

// maxKeptMalformed caps the malformed records a JSON or SARIF report
// lists; the count covers them all.
const maxKeptMalformed = 1000

// JSONSink writes one JSON document: the findings (or, for a diff, the
// changes) streamed as an array while the scan runs, then the malformed
// records and the summary.
type JSONSink struct {
	Out       io.Writer
	open      string // the array being streamed: "findings" or "changes"
	arr       jsonArray
	malformed []*RecordError
}

// jsonArray writes the elements of a JSON array one at a time, each on
// its own line at the given indentation.
type jsonArray struct {
	n int
}

func (a *jsonArray) add(w io.Writer, indent string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sep := ","
	if a.n == 0 {
		sep = ""
	}
	a.n++
	_, err = fmt.Fprintf(w, "%s\n%s%s", sep, indent, b)
	return err
}

func (s *JSONSink) item(key string, v any) error {
	if s.open == "" {
		s.open = key
		if _, err := fmt.Fprintf(s.Out, "{\n  %q: [", key); err != nil {
			return err
		}
	}
	return s.arr.add(s.Out, "    ", v)
}

// Finding streams one finding.
func (s *JSONSink) Finding(f *Finding) error {
	f.Explain()
	return s.item("findings", f)
}

// Diff streams one changed resource.
func (s *JSONSink) Diff(d *DiffEntry) error { return s.item("changes", d) }

// Malformed keeps a bad record for the report.
func (s *JSONSink) Malformed(e *RecordError) error {
	if len(s.malformed) < maxKeptMalformed {
		s.malformed = append(s.malformed, e)
	}
	return nil
}

type malformedJSON struct {
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
	Error  string `json:"error"`
}

// Finish closes the array and writes the malformed records and summary.
func (s *JSONSink) Finish(r *Report) error {
	if s.open == "" {
		key := "findings"
		if r.Diff {
			key = "changes"
		}
		if _, err := fmt.Fprintf(s.Out, "{\n  %q: [", key); err != nil {
			return err
		}
	}
	bad := make([]malformedJSON, 0, len(s.malformed))
	for _, e := range s.malformed {
		bad = append(bad, malformedJSON{Source: e.Where, Line: e.Line, Error: e.Err.Error()})
	}
	mb, err := json.MarshalIndent(bad, "  ", "  ")
	if err != nil {
		return err
	}
	rb, err := json.MarshalIndent(r, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "\n  ],\n  \"malformedRecords\": %s,\n  \"summary\": %s\n}\n", mb, rb)
	return err
}
