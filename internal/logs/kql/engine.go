package kql

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Options configure planning and execution. Source supplies the tables a
// query names (nil for queries built on datatable, print and range only);
// Now is the clock now() and ago() read, once per query (time.Now when nil);
// Limits are the query governor's bounds (zero fields take their defaults);
// GeoIP is the IP geolocation database geo_info_from_ip_address reads (nil:
// a query that calls the function is refused with a compile error).
type Options struct {
	Source Source
	Now    func() time.Time
	Limits Limits
	GeoIP  *GeoIPDB
}

// Plan is a compiled query: its result tables' schemas and a way to stream
// their rows. A Plan runs one execution at a time (window functions,
// mv-apply, partition and the input a fork shares keep their
// per-execution state in the plan); compile a query once per concurrent
// use.
type Plan struct {
	q      *qctx
	tables []resultPlan
	// resets clear the inputs that several tables share before an execution
	resets []func()
	render *Render
	// planned is what planning holds of the memory budget (materialized
	// lets, toscalar results); each execution starts its count from it
	planned int64
}

// Columns returns the first result table's schema.
func (p *Plan) Columns() []Column { return p.tables[0].t.cols }

// Tables returns the number of result tables: one, unless the query ends a
// statement with fork, facet or funnel_sequence, or has several tabular
// statements.
func (p *Plan) Tables() int { return len(p.tables) }

// Render returns the trailing render operator, or nil.
func (p *Plan) Render() *Render {
	if p.render.Chart == "" && p.render.Text == "" {
		return nil
	}
	return p.render
}

// Open starts streaming the result rows of a one-table query (a
// *SeveralTablesError otherwise); blocking operators (summarize, sort,
// join) read their input when the first row is requested.
func (p *Plan) Open(ctx context.Context) (RowIter, error) {
	if len(p.tables) > 1 {
		return nil, &SeveralTablesError{N: len(p.tables)}
	}
	return p.openTable(p.start(ctx), 0)
}

// start begins an execution: its context, and the governor's count from
// what planning holds.
func (p *Plan) start(ctx context.Context) *qctx {
	q := *p.q
	q.ctx = ctx
	q.gov.mem = p.planned
	for _, r := range p.resets {
		r()
	}
	return &q
}

// openTable starts streaming result table i within the execution q.
func (p *Plan) openTable(q *qctx, i int) (it RowIter, err error) {
	defer recoverInto(&err)
	it, err = p.tables[i].t.open(q)
	if err != nil {
		return nil, asLimitError(err)
	}
	return safeIter{it, q.gov}, nil
}

// InternalError reports a defect in the engine met while running a query
// (a recovered panic). It is kept apart from query errors so that a server
// can log it; the query itself gets a plain failure.
type InternalError struct{ Detail string }

// Error renders the failure without the internal detail.
func (e *InternalError) Error() string { return "internal error while running the query" }

// recoverInto turns a panic into an *InternalError: the engine must answer
// bad input with an error, never crash its caller.
// A *LimitError panic is the governor stopping a scalar function that has
// no error path; it is returned as it is.
func recoverInto(err *error) {
	if r := recover(); r != nil {
		if le, ok := r.(*LimitError); ok {
			*err = le
			return
		}
		if ce, ok := r.(*CompileError); ok { // a function refusing its input
			*err = ce
			return
		}
		*err = &InternalError{Detail: fmt.Sprint(r)}
	}
}

// safeIter applies recoverInto to every row, and tells the governor that
// a row of the result went by.
type safeIter struct {
	it  RowIter
	gov *governor
}

func (s safeIter) Next(ctx context.Context) (r Row, err error) {
	defer recoverInto(&err)
	s.gov.transient = 0
	r, err = s.it.Next(ctx)
	if err != nil && err != io.EOF {
		err = asLimitError(err)
	}
	return r, err
}

func (s safeIter) Close() error { return s.it.Close() }

// Compile plans a parsed query. Lets are bound in order; scalar lets and
// toscalar() subqueries are evaluated during planning.
func Compile(ctx context.Context, query *Query, opts Options) (_ *Plan, err error) {
	defer recoverInto(&err)
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	r := &Render{}
	q := &qctx{ctx: ctx, now: timeToTicks(now().UTC()), source: opts.Source, render: r, gov: newGovernor(opts.Limits),
		wantIngest: usesIngestionTime(query), geoIP: opts.GeoIP}
	e := (&env{}).child()
	for _, l := range query.Lets {
		if err := bindLet(q, e, l); err != nil {
			return nil, asLimitError(err)
		}
	}
	var resets []func()
	tables, err := compileStatements(q, e, query, &resets)
	if err != nil {
		return nil, asLimitError(err)
	}
	return &Plan{q: q, tables: tables, resets: resets, render: r, planned: q.gov.mem}, nil
}

// Result is a fully read result table. Name is the name the query gives
// it (a trailing "as", fork's "name=", facet's column), "" when unnamed.
// Partial is set when the governor truncated it (CodeResultTooLarge): Rows
// then hold the first rows only.
type Result struct {
	Name    string
	Columns []Column
	Rows    []Row
	Render  *Render
	Partial *LimitError
}

// Run parses, plans and executes a query that returns one table, under the
// governor of opts.Limits, reading the result up to its truncation limits.
// A query that returns several tables is refused with a
// *SeveralTablesError before it runs; RunTables reads them all.
func Run(ctx context.Context, query string, opts Options) (*Result, error) {
	rs, err := run(ctx, query, opts, true)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// RunTables parses, plans and executes a query under the governor of
// opts.Limits and returns every result table in order. The tables share
// the governor's budgets (memory and time) and the truncation limits: when
// a table is truncated, it is the last one returned, with Partial set.
func RunTables(ctx context.Context, query string, opts Options) ([]*Result, error) {
	return run(ctx, query, opts, false)
}

func run(ctx context.Context, query string, opts Options, one bool) ([]*Result, error) {
	ast, err := Parse(query)
	if err != nil {
		return nil, err
	}
	if t := opts.Limits.Timeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	p, err := Compile(ctx, ast, opts)
	if err != nil {
		return nil, err
	}
	if one && len(p.tables) > 1 {
		return nil, &SeveralTablesError{N: len(p.tables)}
	}
	lim := opts.Limits.withDefaults()
	var used resultSize
	q := p.start(ctx)
	var out []*Result
	for i, t := range p.tables {
		res := &Result{Name: t.name, Columns: t.t.cols}
		if i == 0 {
			res.Render = p.Render()
		}
		it, err := p.openTable(q, i)
		if err != nil {
			return nil, err
		}
		res.Rows, res.Partial, err = readResult(ctx, it, lim, &used)
		it.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, res)
		if res.Partial != nil {
			break
		}
	}
	return out, nil
}

// ReadResult reads rows from it up to the result limits of lim (Kusto's
// result truncation): past MaxRecords rows or MaxResultBytes bytes it stops
// and returns the rows read with a partial-result error. Rows are sized as
// the query API encodes them, roughly.
func ReadResult(ctx context.Context, it RowIter, lim Limits) ([]Row, *LimitError, error) {
	return readResult(ctx, it, lim.withDefaults(), &resultSize{})
}

// resultSize is what the tables read so far hold of the result limits:
// the limits bound a query's tables together.
type resultSize struct {
	records int
	bytes   int64
}

// readResult is ReadResult with lim's defaults applied, counting the rows
// it reads into used.
func readResult(ctx context.Context, it RowIter, lim Limits, used *resultSize) ([]Row, *LimitError, error) {
	var rows []Row
	for {
		r, err := it.Next(ctx)
		if err == io.EOF {
			return rows, nil, nil
		}
		if err != nil {
			return nil, nil, asLimitError(err)
		}
		if lim.MaxRecords > 0 && used.records >= lim.MaxRecords {
			return rows, &LimitError{Code: CodeResultTooLarge, Msg: fmt.Sprintf(
				"Query result set has exceeded the internal record count limit %d", lim.MaxRecords)}, nil
		}
		used.bytes += rowBytes(r)
		if lim.MaxResultBytes > 0 && used.bytes > lim.MaxResultBytes {
			return rows, &LimitError{Code: CodeResultTooLarge, Msg: fmt.Sprintf(
				"Query result set has exceeded the internal data size limit %d", lim.MaxResultBytes)}, nil
		}
		used.records++
		rows = append(rows, r)
	}
}
