package kql

// buildschema(d): the smallest schema that admits every value of d, as the
// reference's example prints it: a property bag lists its properties with
// their schemas, an array is {"`indexer`": the schema of its elements},
// scalars are named long, double, string or bool, and a place that took
// several kinds lists them in the order they first appeared
// (["long","string"]). Nulls add nothing.

func init() { aggPrefix["buildschema"] = "schema" }

type schemaAlt struct {
	kind int // 0 scalar, 1 bag, 2 array
	name string
}

type schemaNode struct {
	alts  []schemaAlt
	keys  []string
	props map[string]*schemaNode
	elem  *schemaNode
}

func (s *schemaNode) has(kind int, name string) bool {
	for _, a := range s.alts {
		if a.kind == kind && a.name == name {
			return true
		}
	}
	return false
}

// add merges x into the schema; grew is the number of new schema entries.
func (s *schemaNode) add(x any) (grew int) {
	mark := func(kind int, name string) {
		if !s.has(kind, name) {
			s.alts = append(s.alts, schemaAlt{kind, name})
			grew++
		}
	}
	switch v := x.(type) {
	case nil:
	case bool:
		mark(0, "bool")
	case int64:
		mark(0, "long")
	case float64:
		mark(0, "double")
	case string:
		mark(0, "string")
	case *Bag:
		mark(1, "")
		if s.props == nil {
			s.props = map[string]*schemaNode{}
		}
		for _, k := range v.Keys {
			c, ok := s.props[k]
			if !ok {
				c = &schemaNode{}
				s.props[k] = c
				s.keys = append(s.keys, k)
				grew++
			}
			grew += c.add(v.M[k])
		}
	case []any:
		mark(2, "")
		if s.elem == nil {
			s.elem = &schemaNode{}
		}
		for _, e := range v {
			grew += s.elem.add(e)
		}
	}
	return grew
}

func (s *schemaNode) render() any {
	out := make([]any, 0, len(s.alts))
	for _, a := range s.alts {
		switch a.kind {
		case 0:
			out = append(out, a.name)
		case 1:
			b := NewBag()
			for _, k := range s.keys {
				b.Set(k, s.props[k].render())
			}
			out = append(out, b)
		case 2:
			b := NewBag()
			b.Set("`indexer`", s.elem.render())
			out = append(out, b)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

type schemaAgg struct {
	governed
	x    func(Row) Value
	root schemaNode
}

func (a *schemaAgg) add(r Row) {
	v := a.x(r)
	if v.T != TypeDynamic || v.IsNull() {
		return
	}
	if grew := a.root.add(v.d); grew > 0 {
		a.hold(int64(grew) * 64)
	}
}

func (a *schemaAgg) result(out []Value) {
	if s := a.root.render(); s != nil {
		out[0] = Dynamic(s)
		return
	}
	out[0] = Null(TypeDynamic)
}
