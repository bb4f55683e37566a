package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// Format is the shape of an estate export.
type Format string

// The estate formats. FormatJSON covers the JSON array of az resource
// list and Azure Resource Graph output (a page object with a data array,
// several pages concatenated or in an array, or the bare data array).
const (
	FormatAuto  Format = "auto"
	FormatJSON  Format = "json"
	FormatJSONL Format = "jsonl"
)

// ParseFormat reads a --format value: auto, json (aliases resource-list,
// graph) or jsonl.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return FormatAuto, nil
	case "json", "resource-list", "graph", "arg":
		return FormatJSON, nil
	case "jsonl", "ndjson", "json-lines":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("unknown estate format %q (want auto, json or jsonl)", s)
}

// MaxRecordSize caps one resource record (and one JSON Lines line).
const MaxRecordSize = policy.MaxDocumentSize

// Record is one resource of the estate, or the error that one malformed
// record gave. Where locates it: "line 12" for JSON Lines, a JSON path and
// its line for JSON ("$[3] (line 40)").
type Record struct {
	Doc   map[string]any
	Where string
	// Line is the line the record starts on (for a Resource Graph page
	// held in memory, the page's line).
	Line int
	// URI, when set, names the file the record comes from when it is not
	// the estate itself (a template's linked template); SARIF locations
	// use it.
	URI string
	Err error
	// lazy, when set, holds the record still undecoded: a scan's workers
	// decode it (resolve), so that parsing runs on every core.
	lazy *lazyRaw
}

// lazyRaw is a record read but not decoded yet.
type lazyRaw struct {
	raw []byte
	// pageWhere, when set, locates the records of a Resource Graph page
	// the raw record may turn out to be.
	pageWhere func(i int) string
}

// resolve decodes a lazy record into the records it stands for (several
// for a Resource Graph page, one malformed record for invalid JSON); other
// records stand for themselves.
func (r Record) resolve(dec *decoder) []Record {
	rd := reader{ctx: context.Background(), dec: dec}
	return rd.resolveInto(nil, r)
}

// resolveInto appends what r resolves to to out. rd has no fn: its
// records are collected (see emit); one reader serves a worker's records,
// with no allocation of its own per record.
func (rd *reader) resolveInto(out []Record, r Record) []Record {
	if r.lazy == nil {
		return append(out, r)
	}
	rd.line, rd.collected = r.Line, out
	_ = rd.decoded(r.Where, r.lazy.raw, r.lazy.pageWhere)
	out, rd.collected = rd.collected, nil
	return out
}

// RecordError is a malformed record: the scan reports it and goes on.
type RecordError struct {
	Where string
	Line  int
	Err   error
}

// Error names the record and the problem.
func (e *RecordError) Error() string { return e.Where + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// Read streams the records of an estate to fn, one at a time, detecting
// the format when it is FormatAuto. Malformed records reach fn as
// records with Err set; the error returned is one that stopped the
// stream (unreadable input, a truncated file) or fn's. The Format
// returned is the one detected.
func Read(ctx context.Context, r io.Reader, format Format, fn func(Record) error) (Format, error) {
	return read(ctx, r, format, nil, fn)
}

// read is Read with an optional filter on raw records: those keep
// rejects are not decoded (nor reported when malformed).
func read(ctx context.Context, r io.Reader, format Format, keep func([]byte) bool, fn func(Record) error) (Format, error) {
	return readWith(ctx, r, format, &reader{ctx: ctx, fn: fn, keep: keep, dec: &decoder{}})
}

// readLazy is read handing on records undecoded (see Record.resolve).
func readLazy(ctx context.Context, r io.Reader, format Format, fn func(Record) error) (Format, error) {
	return readWith(ctx, r, format, &reader{ctx: ctx, fn: fn, lazy: true})
}

func readWith(ctx context.Context, r io.Reader, format Format, rd *reader) (_ Format, err error) {
	defer func() {
		// the one recover point of the readers: a bug must not crash a
		// scan, it stops the input with an error
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error reading the estate: %v", p)
		}
	}()
	br := bufio.NewReaderSize(r, 1<<20)
	if format == FormatAuto || format == "" {
		format = detect(br)
	}
	if format == FormatJSONL {
		err = rd.jsonLines(br)
	} else {
		sp := newSplitter(br, MaxRecordSize)
		// a decoding reader is done with a record before it reads on; a
		// lazy one copies what it keeps into slabs (record)
		sp.borrow, rd.borrowed = true, true
		err = rd.json(sp)
	}
	return format, err
}

// detect tells JSON Lines from JSON: when the first line alone is a
// complete JSON object, the input is JSON Lines (a one-line Resource
// Graph page is expanded there too).
func detect(br *bufio.Reader) Format {
	for n := 4096; ; n *= 2 {
		buf, err := br.Peek(n)
		trimmed := bytes.TrimLeft(buf, " \t\r\n\xef\xbb\xbf")
		if len(trimmed) > 0 && trimmed[0] != '{' {
			return FormatJSON
		}
		if i := bytes.IndexByte(trimmed, '\n'); i >= 0 {
			if json.Valid(trimmed[:i]) {
				return FormatJSONL
			}
			return FormatJSON
		}
		if err != nil {
			// the whole input is one line
			return FormatJSON
		}
		if n >= 1<<20 {
			return FormatJSON
		}
	}
}

type reader struct {
	ctx context.Context
	// fn receives the records; when nil they are appended to collected.
	fn        func(Record) error
	collected []Record
	line      int // where the record being read starts
	keep      func([]byte) bool
	// lazy hands records on undecoded (readLazy).
	lazy bool
	// dec decodes the records (nil: encoding/json only).
	dec *decoder
	// borrowed is set when raw records may lie in the reader's buffer;
	// slab is where a lazy reader copies them, many records to an
	// allocation.
	borrowed bool
	slab     []byte
}

// slabSize is the allocation lazy records are copied into.
const slabSize = 256 << 10

// keepRaw copies a borrowed raw record into the current slab.
func (rd *reader) keepRaw(raw []byte) []byte {
	if len(raw) > slabSize/4 {
		return bytes.Clone(raw)
	}
	if cap(rd.slab)-len(rd.slab) < len(raw) {
		rd.slab = make([]byte, 0, slabSize)
	}
	n := len(rd.slab)
	rd.slab = append(rd.slab, raw...)
	return rd.slab[n:len(rd.slab):len(rd.slab)]
}

// jsonLines reads one record a line; blank lines are skipped.
func (rd *reader) jsonLines(br *bufio.Reader) error {
	for line := 1; ; line++ {
		if err := rd.ctx.Err(); err != nil {
			return err
		}
		raw, tooLong, err := readLine(br, MaxRecordSize)
		if err != nil && err != io.EOF {
			return err
		}
		where := fmt.Sprintf("line %d", line)
		rd.line = line
		switch {
		case tooLong:
			if ferr := rd.fail(where, fmt.Errorf("line longer than %d bytes", MaxRecordSize)); ferr != nil {
				return ferr
			}
		case len(bytes.TrimSpace(raw)) > 0:
			if ferr := rd.raw(where, raw); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// indexPath is fmt.Sprintf("%s[%d]", prefix, i) and atLine
// fmt.Sprintf("%s (line %d)", path, line), without fmt's cost: every
// record of an array gets both.
func indexPath(prefix string, i int) string {
	b := make([]byte, 0, len(prefix)+12)
	b = append(b, prefix...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(i), 10)
	return string(append(b, ']'))
}

func atLine(path string, line int) string {
	b := make([]byte, 0, len(path)+20)
	b = append(b, path...)
	b = append(b, " (line "...)
	b = strconv.AppendInt(b, int64(line), 10)
	return string(append(b, ')'))
}

// readLine reads up to a newline, dropping (and reporting) lines over max.
func readLine(br *bufio.Reader, max int) ([]byte, bool, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, tooLong, err
	}
}

// json reads top-level JSON values: arrays of resources (or of pages)
// and objects (a page whose data array is streamed, or one resource).
func (rd *reader) json(s *splitter) error {
	for doc := 0; ; doc++ {
		b, err := s.peek()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		prefix := "$"
		if doc > 0 {
			prefix = fmt.Sprintf("document %d: $", doc+1)
		}
		switch b {
		case '[':
			err = s.elements(func(i, line int, raw []byte, err error) error {
				return rd.element(indexPath(prefix, i), line, raw, err, true)
			})
		case '{':
			err = rd.object(s, prefix)
		default:
			return fmt.Errorf("line %d: unexpected %q: an estate is a JSON array, a Resource Graph page object or JSON Lines", s.line, b)
		}
		if err != nil {
			return err
		}
	}
}

// element hands one array element on, expanding a Resource Graph page
// found inside an array when pages may nest.
func (rd *reader) element(path string, line int, raw []byte, err error, pages bool) error {
	if err := rd.ctx.Err(); err != nil {
		return err
	}
	where := atLine(path, line)
	rd.line = line
	if err != nil {
		return rd.fail(where, fmt.Errorf("record larger than %d bytes", MaxRecordSize))
	}
	if rd.keep != nil && !rd.keep(raw) {
		return nil
	}
	var pageWhere func(i int) string
	if pages {
		pageWhere = func(i int) string { return fmt.Sprintf("%s.data[%d] (page at line %d)", path, i, line) }
	}
	return rd.record(where, raw, pageWhere)
}

// record decodes raw and hands it on, or in lazy mode hands it on as it
// is (copied when it may lie in the reader's buffer).
func (rd *reader) record(where string, raw []byte, pageWhere func(i int) string) error {
	if rd.lazy {
		if rd.borrowed {
			raw = rd.keepRaw(raw)
		}
		return rd.emit(Record{Where: where, Line: rd.line, lazy: &lazyRaw{raw: raw, pageWhere: pageWhere}})
	}
	return rd.decoded(where, raw, pageWhere)
}

// decoded decodes raw: a Resource Graph page (when pageWhere is set)
// hands on its resources, anything else one record.
func (rd *reader) decoded(where string, raw []byte, pageWhere func(i int) string) error {
	doc, err := rd.dec.decode(raw)
	if err != nil {
		return rd.fail(where, err)
	}
	if pageWhere != nil {
		if data, ok := pageData(doc); ok {
			return rd.page(pageWhere, data)
		}
	}
	return rd.doc(where, doc)
}

// object streams a top-level object: the elements of its data array as
// records; without a data array the object itself is one record.
func (rd *reader) object(s *splitter, prefix string) error {
	start := s.line
	if _, err := s.expect("{"); err != nil {
		return err
	}
	var kept [][]byte // the other members, to rebuild a lone resource
	size, sawData := 0, false
	if b, err := s.peek(); err == nil && b == '}' {
		_, _ = s.r.ReadByte()
		rd.line = start
		return rd.fail(fmt.Sprintf("%s (line %d)", prefix, start), fmt.Errorf("empty object"))
	}
	for {
		key, err := s.value()
		if err != nil {
			return fmt.Errorf("line %d: bad object key: %w", s.line, err)
		}
		var name string
		if json.Unmarshal(key, &name) != nil {
			return fmt.Errorf("line %d: bad object key %s", s.line, key)
		}
		if _, err := s.expect(":"); err != nil {
			return err
		}
		if b, _ := s.peek(); strings.EqualFold(name, "data") && b == '[' {
			sawData = true
			err = s.elements(func(i, line int, raw []byte, err error) error {
				return rd.element(fmt.Sprintf("%s.data[%d]", prefix, i), line, raw, err, false)
			})
			if err != nil {
				return err
			}
		} else {
			v, err := s.value()
			if err != nil && err != errTooLarge {
				return err
			}
			if size += len(key) + len(v); err == nil && size <= MaxRecordSize {
				kept = append(kept, append(append(key, ':'), v...))
			}
		}
		if b, err := s.expect(",}"); err != nil {
			return err
		} else if b == '}' {
			break
		}
	}
	if sawData {
		return nil
	}
	raw := append(append([]byte("{"), bytes.Join(kept, []byte(","))...), '}')
	return rd.element(prefix, start, raw, nil, false)
}

// page hands on the resources of a Resource Graph page held in memory
// (a page is at most 1,000 rows).
func (rd *reader) page(where func(i int) string, data []any) error {
	for i, e := range data {
		w := where(i)
		m, ok := e.(map[string]any)
		if !ok {
			if err := rd.fail(w, fmt.Errorf("a resource must be a JSON object, got %s", kindOf(e))); err != nil {
				return err
			}
			continue
		}
		if err := rd.doc(w, m); err != nil {
			return err
		}
	}
	return nil
}

// raw decodes one JSON Lines record.
func (rd *reader) raw(where string, raw []byte) error {
	if rd.keep != nil && !rd.keep(raw) {
		return nil
	}
	return rd.record(where, raw, func(i int) string { return fmt.Sprintf("%s: $.data[%d]", where, i) })
}

func (rd *reader) doc(where string, doc map[string]any) error {
	if err := normalizeResource(doc); err != nil {
		return rd.fail(where, err)
	}
	return rd.emit(Record{Doc: doc, Where: where, Line: rd.line})
}

func (rd *reader) fail(where string, err error) error {
	return rd.emit(Record{Where: where, Line: rd.line, Err: &RecordError{Where: where, Line: rd.line, Err: err}})
}

// emit hands a record on.
func (rd *reader) emit(r Record) error {
	if rd.fn == nil {
		rd.collected = append(rd.collected, r)
		return nil
	}
	return rd.fn(r)
}

// decodeObject decodes a raw record into the policy value model.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the value")
	}
	m, ok := policy.Normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a resource must be a JSON object, got %s", kindOf(v))
	}
	return m, nil
}

// pageData returns the data array of a Resource Graph page: an object
// with a data array and neither id nor type.
func pageData(doc map[string]any) ([]any, bool) {
	if _, ok := lookup(doc, "id"); ok {
		return nil, false
	}
	if _, ok := lookup(doc, "type"); ok {
		return nil, false
	}
	v, ok := lookup(doc, "data")
	if !ok {
		return nil, false
	}
	data, ok := v.([]any)
	return data, ok
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a number"
}

// lookup reads a key case-insensitively, as ARM treats property names.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func lookupString(m map[string]any, key string) string {
	v, _ := lookup(m, key)
	s, _ := v.(string)
	return s
}
