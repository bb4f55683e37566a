package policy

import (
	"fmt"

	"github.com/steward-gov/steward/internal/armexpr"
)

// node is a compiled condition.
type node interface {
	eval(st *state) (bool, error)
}

type allOfNode struct{ kids []node }

func (n *allOfNode) eval(st *state) (bool, error) {
	for _, k := range n.kids {
		ok, err := k.eval(st)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

type anyOfNode struct{ kids []node }

func (n *anyOfNode) eval(st *state) (bool, error) {
	for _, k := range n.kids {
		ok, err := k.eval(st)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

type notNode struct{ kid node }

func (n *notNode) eval(st *state) (bool, error) {
	st.negated = !st.negated
	ok, err := n.kid.eval(st)
	st.negated = !st.negated
	return !ok && err == nil, err
}

// leafNode is a field, value or count condition.
type leafNode struct {
	kind      CondKind
	field     *fieldRef
	fieldExpr *operand // field given by an expression not known at compile time
	val       *operand
	cnt       *countNode
	op        Operator
	rhs       *operand
	loc       bool
	path      string
	text      string
}

func (n *leafNode) eval(st *state) (bool, error) {
	if st.applic != 0 {
		if res, decided := st.applicabilityLeaf(n); decided {
			return res, nil
		}
	}
	r, err := n.rhs.prepared(st, n.op, n.loc)
	if err != nil {
		return false, st.fail(n, err)
	}
	switch n.kind {
	case CondField:
		f := n.field
		if f == nil || (n.fieldExpr != nil && st.paramsOverride && n.fieldExpr.paramDep) {
			v, err := n.fieldExpr.value(st)
			if err != nil {
				return false, st.fail(n, err)
			}
			s, ok := v.(string)
			if !ok {
				return false, st.fail(n, fmt.Errorf("field expression gives %s, want a string", armexpr.TypeName(v)))
			}
			if f, err = st.pol.fieldByName(s); err != nil {
				return false, st.fail(n, err)
			}
		}
		loc := n.loc || f.kind == fieldLocation
		if f.wildcard {
			start := len(st.vals)
			st.vals = st.fieldValues(f, true)
			result := true
			for i := start; i < len(st.vals); i++ {
				ok, err := apply(n.op, st.vals[i], r, loc)
				if err != nil {
					st.vals = st.vals[:start]
					return false, st.fail(n, err)
				}
				if !ok {
					result = false
					break
				}
			}
			if st.explain {
				vals := make([]any, 0, len(st.vals)-start)
				for _, v := range st.vals[start:] {
					vals = append(vals, v.v)
				}
				var shown any = vals
				if len(st.scopes) > 0 && len(vals) == 1 {
					shown = vals[0] // a field bound to the counted member
				}
				st.record(n, f, shown, true, r.v, result)
			}
			st.vals = st.vals[:start]
			return result, nil
		}
		v, ok := st.fieldValue(f)
		res, err := apply(n.op, value{v, ok}, r, loc)
		if err != nil {
			return false, st.fail(n, err)
		}
		if st.explain {
			st.record(n, f, v, ok, r.v, res)
		}
		return res, nil
	case CondValue:
		v, err := n.val.value(st)
		if err != nil {
			return false, st.fail(n, err)
		}
		res, err := apply(n.op, value{v, true}, r, false)
		if err != nil {
			return false, st.fail(n, err)
		}
		if st.explain {
			st.record(n, nil, v, true, r.v, res)
		}
		return res, nil
	default:
		c, err := n.cnt.count(st)
		if err != nil {
			return false, err
		}
		res, err := apply(n.op, value{c, true}, r, false)
		if err != nil {
			return false, st.fail(n, err)
		}
		if st.explain {
			st.record(n, nil, c, true, r.v, res)
		}
		return res, nil
	}
}

// countNode is the left-hand side of a count condition.
type countNode struct {
	field     *fieldRef
	fieldExpr *operand
	value     *operand
	name      string
	where     node
	text      string
}

// scope is one level of count iteration: the member being counted.
type scope struct {
	name  string // value count name
	field string // field count alias, as written
	segs  []seg  // resolved path of the field count ([*] last)
	value any
	ok    bool
}

func (c *countNode) count(st *state) (int64, error) {
	if c.value != nil {
		v, err := c.value.value(st)
		if err != nil {
			return 0, err
		}
		arr, ok := v.([]any)
		if !ok {
			if v == nil {
				return 0, nil
			}
			return 0, fmt.Errorf("count.value must be an array, got %s", armexpr.TypeName(v))
		}
		if err := checkIterations(st.iterations, len(arr)); err != nil {
			return 0, err
		}
		if c.where == nil {
			return int64(len(arr)), nil
		}
		outer := st.iterations
		st.iterations = max(outer, 1) * len(arr)
		var n int64
		for _, e := range arr {
			st.scopes = append(st.scopes, scope{name: c.name, value: e, ok: true})
			var ok bool
			ok, err = c.where.eval(st)
			st.scopes = st.scopes[:len(st.scopes)-1]
			if err != nil {
				break
			}
			if ok {
				n++
			}
		}
		st.iterations = outer
		return n, err
	}
	f := c.field
	if f == nil {
		v, err := c.fieldExpr.value(st)
		if err != nil {
			return 0, err
		}
		s, _ := v.(string)
		if f, err = st.pol.fieldByName(s); err != nil {
			return 0, err
		}
	}
	start := len(st.vals)
	st.vals = st.fieldValues(f, false)
	end := len(st.vals)
	if c.where == nil {
		st.vals = st.vals[:start]
		return int64(end - start), nil
	}
	segs, _ := f.pathFor(st.apiVersion)
	var n int64
	var err error
	for i := start; i < end; i++ {
		e := st.vals[i]
		st.scopes = append(st.scopes, scope{field: f.text, segs: segs, value: e.v, ok: e.ok})
		var ok bool
		ok, err = c.where.eval(st)
		st.scopes = st.scopes[:len(st.scopes)-1]
		if err != nil {
			break
		}
		if ok {
			n++
		}
	}
	st.vals = st.vals[:start]
	return n, err
}
