package kql

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JSONOptions adjust DecodeJSON.
type JSONOptions struct {
	// KeepNumbers leaves every number as a json.Number, its text as
	// written, for callers that choose a number's type later (ingestion
	// stores 1.50 in a string column as "1.50", not "1.5").
	KeepNumbers bool
	// MaxDepth, when positive, is the deepest nesting of arrays and
	// objects accepted; deeper input is an error rather than a deep
	// recursion.
	MaxDepth int
}

// ParseJSON decodes JSON text into the values a dynamic holds: objects as
// *Bag with their keys in document order, arrays as []any, integers that
// fit in 64 bits as int64, other numbers as float64, and strings, bools
// and null as string, bool and nil. Anything but white space after the
// value is an error. It is the decoder of parse_json, todynamic and
// dynamic literals.
func ParseJSON(s string) (any, error) {
	return DecodeJSON(strings.NewReader(s), JSONOptions{})
}

// DecodeJSON decodes the one JSON document that r holds as ParseJSON
// does, adjusted by opts.
func DecodeJSON(r io.Reader, opts JSONOptions) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	v, err := decodeJSON(dec, opts, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// decodeJSON reads the value that starts at the decoder's next token,
// depth containers down from the top.
func decodeJSON(dec *json.Decoder, opts JSONOptions, depth int) (any, error) {
	if opts.MaxDepth > 0 && depth > opts.MaxDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", opts.MaxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeJSON(dec, opts, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		case '{':
			b := NewBag()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeJSON(dec, opts, depth+1)
				if err != nil {
					return nil, err
				}
				b.Set(k, v)
			}
			_, err := dec.Token()
			return b, err
		}
	case json.Number:
		if opts.KeepNumbers {
			return t, nil
		}
		if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, err
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
