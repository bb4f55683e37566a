package insights

import (
	"sort"
	"strings"
)

// Apply is a parsed $apply: transformations separated by '/', run in order.
type Apply struct {
	Steps []Step
}

// Step is one $apply transformation: filter(expr), groupby((props)[,
// aggregate(...)]) or aggregate(...).
type Step struct {
	Filter     Expr
	GroupBy    []Operand // properties, nil for a bare aggregate
	Aggregates []Aggregate
	grouped    bool
}

// Aggregate is "$count as Name" or "Prop with method as Name" (method one
// of sum, min, max, average, countdistinct).
type Aggregate struct {
	Prop   Operand
	Method string // "$count" for the row count
	As     string
}

// String renders the apply expression.
func (a *Apply) String() string {
	parts := make([]string, len(a.Steps))
	for i, s := range a.Steps {
		parts[i] = s.String()
	}
	return strings.Join(parts, "/")
}

// String renders one transformation.
func (s Step) String() string {
	if s.Filter != nil {
		return "filter(" + s.Filter.String() + ")"
	}
	aggs := make([]string, len(s.Aggregates))
	for i, a := range s.Aggregates {
		if a.Method == "$count" {
			aggs[i] = "$count as " + a.As
		} else {
			aggs[i] = a.Prop.Name + " with " + a.Method + " as " + a.As
		}
	}
	agg := "aggregate(" + strings.Join(aggs, ", ") + ")"
	if !s.grouped {
		return agg
	}
	keys := make([]string, len(s.GroupBy))
	for i, k := range s.GroupBy {
		keys[i] = k.Name
	}
	out := "groupby((" + strings.Join(keys, ", ") + ")"
	if len(s.Aggregates) > 0 {
		out += ", " + agg
	}
	return out + ")"
}

// ParseApply parses an $apply expression. Each step may name the state's
// properties and whatever the steps before it produced.
func ParseApply(s string) (a *Apply, err error) {
	defer guard("$apply", &err)
	toks, err := lex("$apply", s)
	if err != nil {
		return nil, err
	}
	p := &parser{param: "$apply", toks: toks}
	known := copyFields(stateFields)
	a = &Apply{}
	for {
		t := p.next()
		if t.kind != tokIdent {
			return nil, p.errorf(t.pos, "expected a transformation, found %s", describe(t))
		}
		if _, err := p.expect(tokLParen, "'('"); err != nil {
			return nil, err
		}
		var st Step
		switch strings.ToLower(t.text) {
		case "filter":
			f, err := p.parseOr(known)
			if err != nil {
				return nil, err
			}
			st.Filter = f
		case "groupby":
			st.grouped = true
			if _, err := p.expect(tokLParen, "'(' before the grouping properties"); err != nil {
				return nil, err
			}
			for {
				o, err := p.parseOperand(known)
				if err != nil {
					return nil, err
				}
				if o.Field == "" {
					return nil, p.errorf(t.pos, "groupby takes property names")
				}
				st.GroupBy = append(st.GroupBy, o)
				n := p.next()
				if n.kind == tokRParen {
					break
				}
				if n.kind != tokComma {
					return nil, p.errorf(n.pos, "expected ',' or ')', found %s", describe(n))
				}
			}
			if p.peek().kind == tokComma {
				p.next()
				at := p.next()
				if at.kind != tokIdent || !strings.EqualFold(at.text, "aggregate") {
					return nil, p.errorf(at.pos, "expected aggregate(...), found %s", describe(at))
				}
				if _, err := p.expect(tokLParen, "'('"); err != nil {
					return nil, err
				}
				if st.Aggregates, err = p.parseAggregates(known); err != nil {
					return nil, err
				}
				if _, err := p.expect(tokRParen, "')'"); err != nil {
					return nil, err
				}
			}
		case "aggregate":
			if st.Aggregates, err = p.parseAggregates(known); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf(t.pos, "unknown transformation %s (filter, groupby and aggregate are supported)", describe(t))
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		// What later steps may name: the grouping keys and aggregates.
		if st.Filter == nil {
			known = map[string]string{}
			for _, k := range st.GroupBy {
				known[k.Field] = k.Name
			}
			for _, ag := range st.Aggregates {
				known[strings.ToLower(ag.As)] = ag.As
			}
		}
		a.Steps = append(a.Steps, st)
		n := p.next()
		if n.kind == tokEOF {
			return a, nil
		}
		if n.kind != tokSlash {
			return nil, p.errorf(n.pos, "expected '/' between transformations, found %s", describe(n))
		}
	}
}

// parseAggregates reads "expr as Name, ..." up to (not including) ')'.
func (p *parser) parseAggregates(known map[string]string) ([]Aggregate, error) {
	var out []Aggregate
	for {
		var ag Aggregate
		t := p.next()
		switch {
		case t.kind == tokIdent && strings.EqualFold(t.text, "$count"):
			ag.Method = "$count"
		case t.kind == tokIdent:
			name := strings.ToLower(t.text)
			if _, ok := known[name]; !ok {
				return nil, p.errorf(t.pos, "unknown property %s", describe(t))
			}
			ag.Prop = Operand{Field: name, Name: t.text}
			if !p.keyword("with") {
				return nil, p.errorf(p.peek().pos, "expected 'with' after %s", describe(t))
			}
			m := p.next()
			switch strings.ToLower(m.text) {
			case "sum", "min", "max", "average", "countdistinct":
				ag.Method = strings.ToLower(m.text)
			default:
				return nil, p.errorf(m.pos, "unknown aggregation method %s", describe(m))
			}
		default:
			return nil, p.errorf(t.pos, "expected $count or a property, found %s", describe(t))
		}
		if !p.keyword("as") {
			return nil, p.errorf(p.peek().pos, "expected 'as' and an alias")
		}
		as, err := p.expect(tokIdent, "an alias")
		if err != nil {
			return nil, err
		}
		ag.As = as.text
		out = append(out, ag)
		if p.peek().kind != tokComma {
			return out, nil
		}
		p.next()
	}
}

func copyFields(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Run applies the transformations to rows.
func (a *Apply) Run(rows []Row) []Row {
	for _, st := range a.Steps {
		if st.Filter != nil {
			kept := rows[:0:0]
			for _, r := range rows {
				if st.Filter.Eval(r) {
					kept = append(kept, r)
				}
			}
			rows = kept
			continue
		}
		rows = st.group(rows)
	}
	return rows
}

// group partitions rows by the grouping keys (compared case-insensitively,
// the first spelling kept) and computes the aggregates of each partition.
func (st Step) group(rows []Row) []Row {
	type bucket struct {
		row  *mapRow
		rows []Row
	}
	var order []string
	buckets := map[string]*bucket{}
	for _, r := range rows {
		var kb strings.Builder
		for _, k := range st.GroupBy {
			v, _ := r.Get(k.Field)
			kb.WriteString(strings.ToLower(renderValue(v)))
			kb.WriteByte(0)
		}
		key := kb.String()
		b := buckets[key]
		if b == nil {
			b = &bucket{row: &mapRow{vals: map[string]any{}}}
			for _, k := range st.GroupBy {
				v, _ := r.Get(k.Field)
				b.row.set(outName(k), v)
			}
			buckets[key] = b
			order = append(order, key)
		}
		b.rows = append(b.rows, r)
	}
	if len(st.GroupBy) == 0 && len(buckets) == 0 {
		buckets[""] = &bucket{row: &mapRow{vals: map[string]any{}}}
		order = append(order, "")
	}
	out := make([]Row, 0, len(order))
	for _, key := range order {
		b := buckets[key]
		for _, ag := range st.Aggregates {
			b.row.set(ag.As, ag.compute(b.rows))
		}
		out = append(out, b.row)
	}
	return out
}

// outName is the spelling of a grouping key in results: the state's own
// property name when it is one (Azure answers policyAssignmentId for
// PolicyAssignmentId), else as written.
func outName(o Operand) string {
	if n, ok := stateFields[o.Field]; ok {
		return n
	}
	return o.Name
}

func (ag Aggregate) compute(rows []Row) any {
	if ag.Method == "$count" {
		return len(rows)
	}
	if ag.Method == "countdistinct" {
		seen := map[string]bool{}
		for _, r := range rows {
			v, _ := r.Get(ag.Prop.Field)
			if v != nil {
				seen[strings.ToLower(renderValue(v))] = true
			}
		}
		return len(seen)
	}
	var nums []float64
	for _, r := range rows {
		v, _ := r.Get(ag.Prop.Field)
		switch x := v.(type) {
		case float64:
			nums = append(nums, x)
		case int:
			nums = append(nums, float64(x))
		}
	}
	if len(nums) == 0 {
		return nil
	}
	sort.Float64s(nums)
	switch ag.Method {
	case "min":
		return nums[0]
	case "max":
		return nums[len(nums)-1]
	}
	sum := 0.0
	for _, n := range nums {
		sum += n
	}
	if ag.Method == "average" {
		return sum / float64(len(nums))
	}
	return sum
}
