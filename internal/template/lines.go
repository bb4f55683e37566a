package template

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
)

// Pos is a place in a template file, 1-based.
type Pos struct{ Line, Column int }

// positions maps the JSON path of every object in data ("resources[1]",
// "resources.storage", "parameters.location") to where it starts. Paths use
// the keys' own spelling.
func positions(data []byte) map[string]Pos {
	var nl []int
	for i, b := range data {
		if b == '\n' {
			nl = append(nl, i)
		}
	}
	at := func(off int64) Pos {
		o := int(off)
		i := sort.SearchInts(nl, o)
		col := o + 1
		if i > 0 {
			col = o - nl[i-1]
		}
		return Pos{Line: i + 1, Column: col}
	}
	out := map[string]Pos{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		path  string
		array bool
		n     int
		key   string
		want  bool // an object expecting a key next
	}
	var stack []*frame
	childPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.array {
			p := f.path + "[" + strconv.Itoa(f.n) + "]"
			f.n++
			return p
		}
		if f.path == "" {
			return f.key
		}
		return f.path + "." + f.key
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; !f.array && f.want {
				if k, ok := tok.(string); ok {
					f.key, f.want = k, false
					continue
				}
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				p := childPath()
				if t == '{' {
					out[p] = at(dec.InputOffset() - 1)
				}
				stack = append(stack, &frame{path: p, array: t == '[', want: t == '{'})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		default:
			childPath()
		}
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; !f.array {
				f.want = true
			}
		}
	}
}
