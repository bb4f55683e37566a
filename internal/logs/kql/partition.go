package kql

// Partition runs a subquery over each group of rows sharing the value of a
// column and unions the results: "partition by k (top 1 by v)".
type Partition struct {
	At     Pos
	Params []NamedParam
	By     string
	Ops    []Op
}

func (*Partition) opNode() {}

// Pos returns the operator's position.
func (o *Partition) Pos() Pos { return o.At }

// String renders the operator.
func (o *Partition) String() string {
	return "partition " + paramsString(o.Params) + "by " + quoteName(o.By) + " (" + joinNodes(o.Ops, " | ") + ")"
}

func (p *parser) parsePartition(t token) *Partition {
	o := &Partition{At: t.pos, Params: p.parseParams()}
	p.expectWord("by")
	o.By, _ = p.expectName()
	o.Ops = p.parseSubOps()
	return o
}

func compilePartition(q *qctx, e *env, in *planTable, o *Partition) (*planTable, error) {
	key := colIndex(in.cols, o.By)
	if key < 0 {
		return nil, unknownColumn(o, o.By)
	}
	var cur []Row
	sub := &planTable{cols: in.cols, open: func(*qctx) (RowIter, error) { return &sliceIter{rows: cur}, nil }}
	var err error
	for _, op := range o.Ops {
		if sub, err = compileOp(q, e, sub, op); err != nil {
			return nil, err
		}
	}
	plan := sub
	return blocking(in, sub.cols, func(q *qctx, rows []Row) ([]Row, error) {
		index := map[string]int{}
		var groups [][]Row
		for _, r := range rows {
			k := keyOf([]Value{r[key]})
			g, ok := index[k]
			if !ok {
				g = len(groups)
				index[k] = g
				groups = append(groups, nil)
			}
			groups[g] = append(groups[g], r)
		}
		var out []Row
		for _, g := range groups {
			cur = g
			res, err := runPlan(q, plan)
			if err != nil {
				return nil, err
			}
			out = append(out, res...)
		}
		return out, nil
	}), nil
}
