package kql

// ingestion_time() returns the time a table's record was stored. A Source
// that keeps it (IngestionTimeSource) appends it to every scanned row,
// after the requested columns, when the query calls ingestion_time(); the
// value then rides along as a hidden trailing value of the rows (at index
// len(cols) of the plan table) through the operators that keep a record a
// record: where, extend, project and its variants, sort, top, take,
// serialize and render. Summarize, distinct and count read it as input
// and make new rows, where ingestion_time() is null, as Kusto's page says
// after summarize. Every other operator drops it before it runs; after
// such an operator ingestion_time() is a compile error rather than a
// guess, since the rows no longer stand for one record each (join, union,
// mv-expand, ...). Without a table (print, datatable, range) or over a
// source that keeps no ingestion times it is null.

// IngestionTimeColumn is the column name a pushed-down Filter on
// ingestion_time() carries (Filter.Column). It starts with '$', which no
// column of a Log Analytics table can.
const IngestionTimeColumn = "$IngestionTime"

// IngestionTimeSource is implemented by a Source whose tables keep the
// time each record was stored. When HasIngestionTime(table) is true the
// planner may set ScanRequest.IngestionTime, and may push filters on
// ingestion_time() as Filters on IngestionTimeColumn (only those for
// which CanFilter answers true).
type IngestionTimeSource interface {
	HasIngestionTime(table string) bool
}

// ingestState says what ingestion_time() reads over the rows of a plan
// table or in a scope.
type ingestState uint8

const (
	// ingestLost (the zero value): the rows do not carry a record's
	// ingestion time and cannot stand for one record (after join, union,
	// mv-expand, ...): ingestion_time() is a compile error. A scope with no
	// row columns (print, a scalar let) reads it as ingestNull.
	ingestLost ingestState = iota
	// ingestNull: no table context, or rows made by an aggregation, or a
	// source that keeps no ingestion times: ingestion_time() is null.
	ingestNull
	// ingestCarried: every row carries its record's ingestion time (a
	// datetime, null for records stored before it was kept) after its
	// columns, at index len(cols).
	ingestCarried
)

// usesIngestionTime reports whether a query calls ingestion_time()
// anywhere (in a let, a function body or a subquery included), so that
// the scans read the ingestion time only for queries that need it.
func usesIngestionTime(q *Query) bool {
	found := false
	Walk(q, func(n Node) bool {
		if c, ok := n.(*Call); ok && c.Name == "ingestion_time" {
			found = true
		}
		return !found
	})
	return found
}

// ingestReader reports whether op can run over rows carrying the hidden
// ingestion time: its expressions read it, and it either passes the rows
// on (ingestKeeper) or makes new rows (ingestMaker). Extend and project
// with window functions can too: windowed keeps the hidden value in the
// rows prev() and next() read.
func ingestReader(op Op) bool {
	return ingestKeeper(op) || ingestMaker(op)
}

// ingestKeeper reports whether op's output rows are its input's records,
// still carrying their ingestion time.
func ingestKeeper(op Op) bool {
	switch op.(type) {
	case *Where, *Extend, *Project, *Sort, *Top, *Take, *Serialize, *Render:
		return true
	}
	return false
}

// ingestMaker reports whether op makes new rows whose ingestion time is
// null (Kusto's "following a summarize operator").
func ingestMaker(op Op) bool {
	switch op.(type) {
	case *Summarize, *Distinct, *Count:
		return true
	}
	return false
}

// stripIngest drops the hidden ingestion time from the rows of in, for an
// operator or a consumer that does not know about it. The full slice
// expression keeps a later append from writing over a row another plan
// may still hold (a materialized table).
func stripIngest(in *planTable) *planTable {
	if in.ingest != ingestCarried {
		return in
	}
	n := len(in.cols)
	t := streamMap(in, in.cols, func(r Row) (Row, bool) { return r[:n:n], true })
	t.ordered, t.ingest = in.ordered, ingestLost
	return t
}

// compileIngestionTime compiles a call of ingestion_time() in the scope.
func (s *scope) compileIngestionTime(x *Call) (cexpr, error) {
	if len(x.Args) != 0 {
		return cexpr{}, errAt(x, "ingestion_time takes no arguments")
	}
	switch {
	case s.ingest == ingestCarried:
		i := len(s.cols)
		return cexpr{t: TypeDateTime, f: func(r Row) Value { return r[i] }}, nil
	case s.ingest == ingestNull, s.cols == nil:
		return constExpr(Null(TypeDateTime)), nil
	}
	return cexpr{}, errAt(x, "ingestion_time() is not available here: the rows no longer stand for one record of a table "+
		"(call it before operators such as join, union or mv-expand: extend IngestionTime = ingestion_time())")
}

// ingestFilter rewrites a where conjunct over ingestion_time() (such as
// "ingestion_time() > ago(1h)") into a Filter on IngestionTimeColumn.
func ingestFilter(x Expr, konst func(Expr) (Value, bool)) (Filter, bool) {
	isCall := func(e Expr) bool {
		c, ok := e.(*Call)
		return ok && c.Name == "ingestion_time" && len(c.Args) == 0
	}
	col := &Ident{At: x.Pos(), Name: IngestionTimeColumn}
	var y Expr
	switch n := x.(type) {
	case *Binary:
		switch {
		case isCall(n.L) && !isCall(n.R):
			y = &Binary{At: n.At, Op: n.Op, L: col, R: n.R}
		case isCall(n.R) && !isCall(n.L):
			y = &Binary{At: n.At, Op: n.Op, L: n.L, R: col}
		}
	case *InExpr:
		if isCall(n.X) {
			y = &InExpr{At: n.At, Op: n.Op, X: col, List: n.List}
		}
	case *Between:
		if isCall(n.X) {
			y = &Between{At: n.At, Not: n.Not, X: col, Lo: n.Lo, Hi: n.Hi}
		}
	}
	if y == nil {
		return Filter{}, false
	}
	return toFilter(y, []Column{{Name: IngestionTimeColumn, Type: TypeDateTime}}, konst)
}
