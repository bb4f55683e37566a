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
// Limits are the query governor's bounds (zero fields take their defaults).
type Options struct {
	Source Source
	Now    func() time.Time
	Limits Limits
}

// Plan is a compiled query: its result schema and a way to stream its rows.
// A Plan runs one execution at a time (window functions, mv-apply and
// partition keep their per-execution state in the plan); compile a query
// once per concurrent use.
type Plan struct {
	q      *qctx
	t      *planTable
	render *Render
	// planned is what planning holds of the memory budget (materialized
	// lets, toscalar results); each execution starts its count from it
	planned int64
}

// Columns returns the result schema.
func (p *Plan) Columns() []Column { return p.t.cols }

// Render returns the trailing render operator, or nil.
func (p *Plan) Render() *Render {
	if p.render.Chart == "" && p.render.Text == "" {
		return nil
	}
	return p.render
}

// Open starts streaming the result rows; blocking operators (summarize,
// sort, join) read their input when the first row is requested.
func (p *Plan) Open(ctx context.Context) (it RowIter, err error) {
	defer recoverInto(&err)
	q := *p.q
	q.ctx = ctx
	q.gov.mem = p.planned
	it, err = p.t.open(&q)
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
	q := &qctx{ctx: ctx, now: timeToTicks(now().UTC()), source: opts.Source, render: r, gov: newGovernor(opts.Limits)}
	e := (&env{}).child()
	for _, l := range query.Lets {
		if err := bindLet(q, e, l); err != nil {
			return nil, asLimitError(err)
		}
	}
	t, err := compilePipeline(q, e, query.Body)
	if err != nil {
		return nil, asLimitError(err)
	}
	return &Plan{q: q, t: t, render: r, planned: q.gov.mem}, nil
}

// Result is a fully read query result. Partial is set when the governor
// truncated it (CodeResultTooLarge): Rows then hold the first rows only.
type Result struct {
	Columns []Column
	Rows    []Row
	Render  *Render
	Partial *LimitError
}

// Run parses, plans and executes a query under the governor of
// opts.Limits, reading the result up to its truncation limits.
func Run(ctx context.Context, query string, opts Options) (*Result, error) {
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
	it, err := p.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	res := &Result{Columns: p.Columns(), Render: p.Render()}
	res.Rows, res.Partial, err = ReadResult(ctx, it, opts.Limits)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ReadResult reads rows from it up to the result limits of lim (Kusto's
// result truncation): past MaxRecords rows or MaxResultBytes bytes it stops
// and returns the rows read with a partial-result error. Rows are sized as
// the query API encodes them, roughly.
func ReadResult(ctx context.Context, it RowIter, lim Limits) ([]Row, *LimitError, error) {
	lim = lim.withDefaults()
	var rows []Row
	var size int64
	for {
		r, err := it.Next(ctx)
		if err == io.EOF {
			return rows, nil, nil
		}
		if err != nil {
			return nil, nil, asLimitError(err)
		}
		if lim.MaxRecords > 0 && len(rows) >= lim.MaxRecords {
			return rows, &LimitError{Code: CodeResultTooLarge, Msg: fmt.Sprintf(
				"Query result set has exceeded the internal record count limit %d", lim.MaxRecords)}, nil
		}
		size += rowBytes(r)
		if lim.MaxResultBytes > 0 && size > lim.MaxResultBytes {
			return rows, &LimitError{Code: CodeResultTooLarge, Msg: fmt.Sprintf(
				"Query result set has exceeded the internal data size limit %d", lim.MaxResultBytes)}, nil
		}
		rows = append(rows, r)
	}
}
