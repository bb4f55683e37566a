package armexpr

import (
	"sort"
	"strings"
)

// function is one entry of the template function library.
type function struct {
	name    string // canonical spelling, for messages
	minArgs int
	maxArgs int // -1: no upper bound
	call    func(ec *EvalContext, args []any) (any, error)
	// lazy, when set, evaluates the call's argument nodes itself (if does,
	// so that only the chosen branch runs).
	lazy func(c *FuncCall, st *evalState) (any, error)
}

// library maps lower-case function names to their implementation. It is
// filled by init functions in the fn_*.go files and read-only afterwards.
var library = map[string]*function{}

// register adds a function taking between min and max arguments (max -1
// for no limit).
func register(name string, min, max int, call func(ec *EvalContext, args []any) (any, error)) *function {
	f := &function{name: name, minArgs: min, maxArgs: max, call: call}
	library[strings.ToLower(name)] = f
	return f
}

func lookupFunction(lower string) *function { return library[lower] }

// Functions returns the canonical names of the library's functions,
// sorted.
func Functions() []string {
	names := make([]string, 0, len(library))
	for _, f := range library {
		names = append(names, f.name)
	}
	sort.Strings(names)
	return names
}

// invoke checks the argument count and calls the function.
func (f *function) invoke(ec *EvalContext, args []any) (any, error) {
	if len(args) < f.minArgs || (f.maxArgs >= 0 && len(args) > f.maxArgs) {
		return nil, errorf(CodeArgumentCount, "the template function '%s' %s", f.name, f.arity(len(args)))
	}
	if f.call == nil {
		return nil, errorf(CodeInvalidArgument, "the template function '%s' cannot be called with evaluated arguments", f.name)
	}
	return f.call(ec, args)
}

func (f *function) arity(got int) string {
	switch {
	case f.minArgs == f.maxArgs:
		return plural("expects exactly %d argument", f.minArgs, got)
	case f.maxArgs < 0:
		return plural("expects at least %d argument", f.minArgs, got)
	case got < f.minArgs:
		return plural("expects at least %d argument", f.minArgs, got)
	}
	return plural("expects at most %d argument", f.maxArgs, got)
}

func plural(format string, n, got int) string {
	s := strings.Replace(format, "%d", itoa(n), 1)
	if n != 1 {
		s += "s"
	}
	return s + ", got " + itoa(got)
}
