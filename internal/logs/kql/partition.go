package kql

// Partition runs a subquery over each group of rows sharing the value of a
// column and unions the results: "partition by k (top 1 by v)", or, in the
// legacy strategy's brace form, a subquery with its own source in which
// the key column's name stands for the partition's value:
// "partition by k { T | where x == k }" (Source is set, Ops empty).
type Partition struct {
	At     Pos
	Params []NamedParam
	By     string
	Ops    []Op
	Source Expr
}

func (*Partition) opNode() {}

// Pos returns the operator's position.
func (o *Partition) Pos() Pos { return o.At }

// String renders the operator.
func (o *Partition) String() string {
	if o.Source != nil {
		return "partition " + paramsString(o.Params) + "by " + quoteName(o.By) + " { " + o.Source.String() + " }"
	}
	return "partition " + paramsString(o.Params) + "by " + quoteName(o.By) + " (" + joinNodes(o.Ops, " | ") + ")"
}

func (p *parser) parsePartition(t token) *Partition {
	o := &Partition{At: t.pos, Params: p.parseParams()}
	p.expectWord("by")
	o.By, _ = p.expectName()
	if p.acceptPunct("{") {
		o.Source = p.parseTabOrExpr()
		p.expectPunct("}")
		return o
	}
	o.Ops = p.parseSubOps()
	return o
}

func compilePartition(q *qctx, e *env, in *planTable, o *Partition) (*planTable, error) {
	key := colIndex(in.cols, o.By)
	if key < 0 {
		return nil, unknownColumn(o, o.By)
	}
	legacy, err := partitionStrategy(o)
	if err != nil {
		return nil, err
	}
	if o.Source != nil {
		return compilePartitionWithSource(q, e, in, o, key)
	}
	var cur []Row
	sub := &planTable{cols: in.cols, open: func(*qctx) (RowIter, error) { return &sliceIter{rows: cur}, nil }}
	for _, op := range o.Ops {
		if sub, err = compileOp(q, e, sub, op); err != nil {
			return nil, err
		}
	}
	plan := sub
	return blocking(in, sub.cols, func(q *qctx, rows []Row) ([]Row, error) {
		groups := partitionGroups(rows, key)
		if legacy && len(groups) > legacyPartitions {
			return nil, tooManyPartitions(o, len(groups))
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
