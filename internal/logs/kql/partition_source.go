package kql

import (
	"slices"
	"strings"
)

// legacyPartitions is the legacy strategy's limit on distinct key values.
const legacyPartitions = 64

// partitionStrategy checks hint.strategy (legacy, shuffle or native) and
// tells whether the legacy strategy was asked for by name. The brace form
// (a subquery with its own source) exists only in the legacy strategy.
func partitionStrategy(o *Partition) (legacy bool, err error) {
	v, ok := param(o.Params, "hint.strategy")
	if !ok {
		return false, nil
	}
	v = strings.Trim(v, `"'`)
	switch strings.ToLower(v) {
	case "legacy":
		return true, nil
	case "shuffle", "native":
		if o.Source != nil {
			return false, errAt(o, "partition with a subquery in braces needs hint.strategy=legacy, not %s", v)
		}
		return false, nil
	}
	return false, errAt(o, "partition's hint.strategy must be legacy, shuffle or native, not '%s'", v)
}

func tooManyPartitions(o *Partition, n int) error {
	return errAt(o, "partition's legacy strategy allows at most %d distinct values of '%s', found %d (use hint.strategy=native or shuffle)",
		legacyPartitions, o.By, n)
}

// partitionGroups splits rows by the key column's value, in order of first
// appearance.
func partitionGroups(rows []Row, key int) [][]Row {
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
	return groups
}

// compilePartitionWithSource plans "partition by k { subquery }": the
// subquery has its own source and sees the key column's name (alone, or
// as toscalar(k)) as the partition's value. It is planned once per
// distinct value, with that value as a constant, so the scans below it
// can use it; the legacy strategy's limit of 64 values bounds the number
// of plans. The output columns are those of the first plan (Kusto unions
// the results; plans whose columns differ are an error).
func compilePartitionWithSource(q *qctx, e *env, in *planTable, o *Partition, key int) (*planTable, error) {
	keyType := in.cols[key].Type
	planFor := func(v Value) (*planTable, error) {
		ce := constExpr(v)
		ce.t = keyType
		sub := e.child()
		sub.vars[o.By] = &binding{scalar: &ce}
		return compileTabExpr(q, sub, o.Source)
	}
	// the output schema: plan once with a null key
	first, err := planFor(Null(keyType))
	if err != nil {
		return nil, err
	}
	cols := first.cols
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		groups := partitionGroups(rows, key)
		if len(groups) > legacyPartitions {
			return nil, tooManyPartitions(o, len(groups))
		}
		var out []Row
		for _, g := range groups {
			plan, err := planFor(g[0][key])
			if err != nil {
				return nil, err
			}
			if !slices.Equal(plan.cols, cols) {
				return nil, errAt(o, "partition's subqueries return different columns for different values of '%s'", o.By)
			}
			res, err := runPlan(q, plan)
			if err != nil {
				return nil, err
			}
			for _, r := range res {
				out = q.keep(out, r, "partition operator")
			}
		}
		return out, nil
	}), nil
}
