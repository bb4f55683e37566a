package kql

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits bound the resources of one query: the query governor. The zero
// value of a field means its default (DefaultLimits); a negative value
// turns that bound off. Every entry point (Compile, Run) runs under the
// governor, so constant folding at planning time counts as much as
// execution does.
type Limits struct {
	// MaxMemory caps the bytes one query holds: rows retained by blocking
	// operators (sort, summarize groups, join sides and output, materialize,
	// toscalar), make-series bins, and every value a string or array
	// builder (strrep, strcat, range(), repeat, array_concat...) is about
	// to allocate. Counted, not sampled; nothing is given back before the
	// query ends, so the count is an upper bound of what is live.
	MaxMemory int64
	// MaxRecords and MaxResultBytes truncate the result (Kusto's
	// truncationmaxrecords and truncationmaxsize): Run stops reading and
	// marks the result partial with E_QUERY_RESULT_SET_TOO_LARGE.
	MaxRecords     int
	MaxResultBytes int64
	// MaxCallDepth caps how deeply user-defined functions may expand into
	// each other; MaxExpansions caps how many calls one query may expand
	// in total (f(x) = g(x) + g(x) doubles with each level).
	MaxCallDepth  int
	MaxExpansions int
	// Timeout bounds Run's wall-clock time on top of the context's
	// deadline; 0 leaves the context alone.
	Timeout time.Duration
}

// Default limits: Kusto's result truncation (500,000 records, 64 MB), a
// memory budget sized for a small server, and call depths far above what
// real queries use.
const (
	DefaultMaxMemory      = 256 << 20
	DefaultMaxRecords     = 500_000
	DefaultMaxResultBytes = 64 << 20
	DefaultMaxCallDepth   = 64
	DefaultMaxExpansions  = 10_000
)

// DefaultLimits returns the limits a query gets when it names none.
func DefaultLimits() Limits {
	return Limits{MaxMemory: DefaultMaxMemory, MaxRecords: DefaultMaxRecords, MaxResultBytes: DefaultMaxResultBytes,
		MaxCallDepth: DefaultMaxCallDepth, MaxExpansions: DefaultMaxExpansions}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMemory == 0 {
		l.MaxMemory = d.MaxMemory
	}
	if l.MaxRecords == 0 {
		l.MaxRecords = d.MaxRecords
	}
	if l.MaxResultBytes == 0 {
		l.MaxResultBytes = d.MaxResultBytes
	}
	if l.MaxCallDepth == 0 {
		l.MaxCallDepth = d.MaxCallDepth
	}
	if l.MaxExpansions == 0 {
		l.MaxExpansions = d.MaxExpansions
	}
	return l
}

// Codes of LimitError, as Kusto names them.
const (
	// CodeRunaway: an operator or builder went over the memory budget.
	CodeRunaway = "E_RUNAWAY_QUERY"
	// CodeResultTooLarge: the result was truncated (a partial result).
	CodeResultTooLarge = "E_QUERY_RESULT_SET_TOO_LARGE"
	// CodeTooComplex: user functions recurse or expand too deeply.
	CodeTooComplex = "E_QUERY_TOO_COMPLEX"
	// CodeTimeout: the time budget ran out.
	CodeTimeout = "E_QUERY_TIMEOUT"
	// CodeCancelled: the caller went away (its context was cancelled).
	CodeCancelled = "E_QUERY_CANCELLED"
)

// LimitError is a query the governor stopped. Code is one of the Code*
// constants; errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, context.Canceled) hold for the timeout and cancellation
// codes.
type LimitError struct {
	Code string
	Msg  string
	ctx  error
}

// Error renders the message with its code, as Kusto does.
func (e *LimitError) Error() string { return fmt.Sprintf("%s (%s)", e.Msg, e.Code) }

// Unwrap exposes the context error behind a timeout or cancellation.
func (e *LimitError) Unwrap() error { return e.ctx }

func runaway(what string, limit int64) *LimitError {
	return &LimitError{Code: CodeRunaway, Msg: fmt.Sprintf(
		"The %s has exceeded the memory budget of %d bytes during evaluation", what, limit)}
}

// ctxLimitError turns a context error into the governor's error.
func ctxLimitError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &LimitError{Code: CodeTimeout, Msg: "The query exceeded its time budget", ctx: err}
	case errors.Is(err, context.Canceled):
		return &LimitError{Code: CodeCancelled, Msg: "The query was cancelled", ctx: err}
	}
	return err
}

// asLimitError gives a context error met anywhere in the engine (a source
// scanning, a range checking its context) the governor's form; other
// errors, and errors already in that form, pass unchanged.
func asLimitError(err error) error {
	var le *LimitError
	if err == nil || errors.As(err, &le) {
		return err
	}
	return ctxLimitError(err)
}

// governor counts one query's resources against its Limits. A query runs
// on one goroutine (see Plan), so the counters are plain fields.
type governor struct {
	lim Limits
	mem int64
	// transient counts what builders allocated since the last row went
	// by: the values of one row (or of constant folding) are all alive
	// together, and nothing else counts them until an operator keeps them
	transient  int64
	ticks      uint32
	depth      int
	expansions int
	active     map[*FuncDef]bool
}

func newGovernor(l Limits) *governor {
	return &governor{lim: l.withDefaults(), active: map[*FuncDef]bool{}}
}

// grow counts n more bytes held by what; over budget it fails.
func (g *governor) grow(what string, n int64) error {
	g.mem += n
	if g.mem > g.lim.MaxMemory && g.lim.MaxMemory >= 0 || g.mem < 0 {
		return runaway(what, g.lim.MaxMemory)
	}
	return nil
}

// mustGrow is grow for code with no error path (scalar functions): it
// panics with the *LimitError, which the engine's recover points return
// as the query's error.
func (g *governor) mustGrow(what string, n int64) {
	if err := g.grow(what, n); err != nil {
		panic(err)
	}
}

// alloc checks that a value of n bytes a builder is about to make fits in
// what is left of the budget. It stays counted until the next row goes by
// (tick): an operator that keeps the value counts it then.
func (g *governor) alloc(what string, n int64) {
	if g.lim.MaxMemory < 0 {
		return
	}
	if n < 0 || g.mem+g.transient+n > g.lim.MaxMemory {
		panic(runaway(what, g.lim.MaxMemory))
	}
	g.transient += n
}

// tick is called once per row by loops that do not pass through a
// source's iterator: a row went by (what builders allocated for it is
// forgotten), and every 1024 calls the context is checked. It is small
// enough to be inlined in those loops.
func (g *governor) tick(ctx context.Context) error {
	g.transient = 0
	g.ticks++
	if g.ticks&1023 != 0 {
		return nil
	}
	return checkContext(ctx)
}

func checkContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return ctxLimitError(err)
	}
	return nil
}

// enter starts the expansion of a user-defined function call; leave ends
// it. Kusto does not allow recursion: a function met again while it is
// still being expanded is an error, as is expanding too deep or too often.
func (g *governor) enter(at Node, f *FuncDef, name string) error {
	if g.active[f] {
		return &CompileError{Pos: at.Pos(), Msg: fmt.Sprintf("function '%s' calls itself; recursion is not allowed", name)}
	}
	g.expansions++
	if g.lim.MaxExpansions > 0 && g.expansions > g.lim.MaxExpansions {
		return &LimitError{Code: CodeTooComplex, Msg: fmt.Sprintf(
			"The query expands more than %d user-defined function calls", g.lim.MaxExpansions)}
	}
	if g.lim.MaxCallDepth > 0 && g.depth >= g.lim.MaxCallDepth {
		return &LimitError{Code: CodeTooComplex, Msg: fmt.Sprintf(
			"User-defined functions are nested more than %d calls deep", g.lim.MaxCallDepth)}
	}
	g.depth++
	g.active[f] = true
	return nil
}

func (g *governor) leave(f *FuncDef) {
	g.depth--
	delete(g.active, f)
}

// valueBytes estimates the bytes a value holds: its header and its string
// or (shallowly) its dynamic payload.
func valueBytes(v Value) int64 {
	n := int64(48 + len(v.s))
	switch d := v.d.(type) {
	case []any:
		n += 16 * int64(len(d))
	case *Bag:
		n += 48 * int64(len(d.Keys))
	case string:
		n += int64(len(d))
	}
	return n
}

// rowBytes estimates the bytes a retained row holds.
func rowBytes(r Row) int64 {
	n := int64(24)
	for _, v := range r {
		n += valueBytes(v)
	}
	return n
}
