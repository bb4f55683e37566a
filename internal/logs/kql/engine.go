package kql

import (
	"context"
	"time"
)

// Options configure planning and execution. Source supplies the tables a
// query names (nil for queries built on datatable, print and range only);
// Now is the clock now() and ago() read, once per query (time.Now when nil).
type Options struct {
	Source Source
	Now    func() time.Time
}

// Plan is a compiled query: its result schema and a way to stream its rows.
type Plan struct {
	q      *qctx
	t      *planTable
	render *Render
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
func (p *Plan) Open(ctx context.Context) (RowIter, error) {
	q := *p.q
	q.ctx = ctx
	return p.t.open(&q)
}

// Compile plans a parsed query. Lets are bound in order; scalar lets and
// toscalar() subqueries are evaluated during planning.
func Compile(ctx context.Context, query *Query, opts Options) (*Plan, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	r := &Render{}
	q := &qctx{ctx: ctx, now: timeToTicks(now().UTC()), source: opts.Source, render: r}
	e := (&env{}).child()
	for _, l := range query.Lets {
		if err := bindLet(q, e, l); err != nil {
			return nil, err
		}
	}
	t, err := compilePipeline(q, e, query.Body)
	if err != nil {
		return nil, err
	}
	return &Plan{q: q, t: t, render: r}, nil
}

// Result is a fully read query result.
type Result struct {
	Columns []Column
	Rows    []Row
	Render  *Render
}

// Run parses, plans and executes a query, reading the whole result.
func Run(ctx context.Context, query string, opts Options) (*Result, error) {
	ast, err := Parse(query)
	if err != nil {
		return nil, err
	}
	p, err := Compile(ctx, ast, opts)
	if err != nil {
		return nil, err
	}
	it, err := p.Open(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := drain(ctx, it)
	if err != nil {
		return nil, err
	}
	return &Result{Columns: p.Columns(), Rows: rows, Render: p.Render()}, nil
}
