package kql

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Bag is a dynamic property bag that keeps its keys in insertion order, as
// Kusto prints them.
type Bag struct {
	Keys []string
	M    map[string]any
}

// NewBag returns an empty bag.
func NewBag() *Bag { return &Bag{M: map[string]any{}} }

// Set adds or replaces a key.
func (b *Bag) Set(k string, v any) {
	if _, ok := b.M[k]; !ok {
		b.Keys = append(b.Keys, k)
	}
	b.M[k] = v
}

// Get returns the value under k.
func (b *Bag) Get(k string) (any, bool) {
	v, ok := b.M[k]
	return v, ok
}

// jsonCompact renders a dynamic value as compact JSON, as tostring() does.
func jsonCompact(x any) string {
	var b bytes.Buffer
	writeJSON(&b, x, "", "")
	return b.String()
}

// jsonIndent renders a dynamic value as JSON indented by two spaces, the
// form the conformance data records.
func jsonIndent(x any) string {
	var b bytes.Buffer
	writeJSON(&b, x, "\n", "  ")
	return b.String()
}

func writeJSON(b *bytes.Buffer, x any, nl, ind string) {
	writeJSONAt(b, x, nl, ind, "")
}

// maxJSONBytes caps the JSON text of one dynamic value. Arrays and bags
// may share parts (pack_array(a, a)), so a small value in memory can
// render as an exponentially large text; past the cap rendering stops with
// the governor's error.
var maxJSONBytes = DefaultMaxResultBytes

func writeJSONAt(b *bytes.Buffer, x any, nl, ind, cur string) {
	if b.Len() > maxJSONBytes {
		panic(runaway("rendering of a dynamic value as text", int64(maxJSONBytes)))
	}
	sep := ":"
	if nl != "" {
		sep = ": "
	}
	switch t := x.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case float64:
		b.WriteString(jsonReal(t))
	case string:
		writeJSONString(b, t)
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + cur + ind)
			writeJSONAt(b, e, nl, ind, cur+ind)
		}
		b.WriteString(nl + cur + "]")
	case *Bag:
		if len(t.Keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range t.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + cur + ind)
			writeJSONString(b, k)
			b.WriteString(sep)
			writeJSONAt(b, t.M[k], nl, ind, cur+ind)
		}
		b.WriteString(nl + cur + "}")
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	// json.Marshal escapes <, > and & for HTML; Kusto does not.
	out := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(enc))
	b.WriteString(out)
}

// jsonReal renders a real inside dynamic JSON: integral values keep ".0",
// exponents appear below 1e-4 and from 1e16, as the conformance data shows.
func jsonReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if s, ok := expNotation(f, -4, 16, "e"); ok {
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// dynEqual compares two dynamic payloads structurally.
func dynEqual(a, b any) bool { return jsonCompact(a) == jsonCompact(b) }

// sortedKeys returns a bag's keys in sorted order.
func sortedKeys(b *Bag) []string {
	ks := append([]string(nil), b.Keys...)
	sort.Strings(ks)
	return ks
}

// sortBags returns a copy of x with every bag's keys sorted, the form
// dynamic_to_json prints.
func sortBags(x any) any {
	switch d := x.(type) {
	case *Bag:
		out := NewBag()
		keys := sortedKeys(d)
		sort.SliceStable(keys, func(i, j int) bool { return strings.Compare(keys[i], keys[j]) < 0 })
		for _, k := range keys {
			out.Set(k, sortBags(d.M[k]))
		}
		return out
	case []any:
		out := make([]any, len(d))
		for i, e := range d {
			out[i] = sortBags(e)
		}
		return out
	}
	return x
}
