package template

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/armexpr"
)

// frame is what one evaluation may see besides the template: the copy
// loops it runs in and where it sits.
type frame struct {
	// loop is the resource (or output) copy loop and idx its index, for
	// copyIndex() without a name.
	loop string
	idx  int
	// named are the property and variable copy loops, by lower-case name.
	named map[string]int
	// paramDefault allows newGuid() and utcNow().
	paramDefault bool
	// fn is set inside a user-defined function: its parameters.
	fn map[string]any
	// self is the resource whose body is evaluated (for messages).
	self *decl
}

func (f *frame) with(name string, i int) *frame {
	g := *f
	g.named = make(map[string]int, len(f.named)+1)
	for k, v := range f.named {
		g.named[k] = v
	}
	g.named[lower(name)] = i
	return &g
}

// value evaluates a JSON value of the template: expressions in strings,
// property copy loops in objects, recursively.
func (x *expander) value(v any, f *frame, path string) (any, error) {
	switch t := v.(type) {
	case string:
		return x.str(t, f, path)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := x.value(e, f, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if strings.EqualFold(k, "copy") {
				if loops, ok := e.([]any); ok && isPropertyCopy(loops) {
					if err := x.propertyCopy(loops, f, path, out); err != nil {
						return nil, err
					}
					continue
				}
			}
			r, err := x.value(e, f, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// isPropertyCopy tells a property iteration ("copy": [{"name", "count",
// "input"}]) from a property that happens to be called copy.
func isPropertyCopy(loops []any) bool {
	if len(loops) == 0 {
		return false
	}
	for _, l := range loops {
		m, ok := l.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := keyFold(m, "input"); !ok {
			return false
		}
		if _, ok := keyFold(m, "name"); !ok {
			return false
		}
	}
	return true
}

func (x *expander) propertyCopy(loops []any, f *frame, path string, out map[string]any) error {
	for _, l := range loops {
		m := l.(map[string]any)
		name, err := x.value(mustFold(m, "name"), f, path+".copy.name")
		if err != nil {
			return err
		}
		ns, ok := name.(string)
		if !ok || ns == "" {
			return x.at(path, templateErr("A property copy loop needs a name."))
		}
		n, err := x.count(mustFold(m, "count"), f, path+".copy.count")
		if err != nil {
			return err
		}
		input := mustFold(m, "input")
		arr := make([]any, 0, n)
		for i := 0; i < n; i++ {
			v, err := x.value(input, f.with(ns, i), path+"."+ns)
			if err != nil {
				return err
			}
			arr = append(arr, v)
		}
		out[ns] = arr
	}
	return nil
}

func mustFold(m map[string]any, k string) any {
	v, _ := keyFold(m, k)
	return v
}

// maxCopyCount is Azure's limit on one copy loop.
const maxCopyCount = 800

func (x *expander) count(v any, f *frame, path string) (int, error) {
	c, err := x.value(v, f, path)
	if err != nil {
		return 0, err
	}
	n, ok := c.(int64)
	if !ok {
		return 0, x.at(path, templateErr("The copy count must be an integer, got %s.", armexpr.TypeName(c)))
	}
	if n < 0 || n > maxCopyCount {
		return 0, x.at(path, templateErr("The copy count '%d' is not valid: it must be between 0 and %d.", n, maxCopyCount))
	}
	return int(n), nil
}

// str evaluates one string of the template.
func (x *expander) str(s string, f *frame, path string) (any, error) {
	if !armexpr.IsExpression(s) {
		if strings.HasPrefix(s, "[[") {
			return s[1:], nil
		}
		return s, nil
	}
	n, err := x.parse(s)
	if err != nil {
		return nil, x.at(path, templateErr("The template language expression '%s' is not valid: %v", clip(s), err))
	}
	ec := &armexpr.EvalContext{Host: x.host(f)}
	if x.opts.Now != nil {
		ec.Now = x.opts.Now()
	}
	v, err := armexpr.Eval(n, ec)
	if err != nil {
		if errors.Is(err, errDeferred) && x.offline() {
			return s, nil // the deployment would know; keep the expression
		}
		var te *Error
		if errors.As(err, &te) {
			if te.Path == "" {
				return nil, x.at(path, te)
			}
			return nil, te
		}
		return nil, x.at(path, templateErr("Unable to evaluate template language expression '%s': %s", clip(s), exprMessage(err)))
	}
	return v, nil
}

// strict evaluates a value that must be known before anything is deployed
// (names, types, conditions, counts): a deferred value is an error.
func (x *expander) strict(v any, f *frame, path string) (any, error) {
	r, err := x.value(v, f, path)
	if err != nil {
		return nil, err
	}
	if s, ok := r.(string); ok && armexpr.IsExpression(s) {
		if orig, ok := v.(string); ok && orig == s {
			return nil, x.at(path, templateErr("The template language expression '%s' cannot be evaluated before the deployment runs (it reads deployed state), so it cannot name, type, count or condition a resource.", clip(s)))
		}
	}
	return r, nil
}

func exprMessage(err error) string {
	var e *armexpr.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func (x *expander) parse(s string) (armexpr.Node, error) {
	x.shared.mu.Lock()
	n, ok := x.shared.parsed[s]
	x.shared.mu.Unlock()
	if ok {
		return n, nil
	}
	n, err := armexpr.Parse(s)
	if err != nil {
		return nil, err
	}
	x.shared.mu.Lock()
	if len(x.shared.parsed) < 1<<16 {
		x.shared.parsed[s] = n
	}
	x.shared.mu.Unlock()
	return n, nil
}

func (x *expander) now() time.Time {
	if x.opts.Now != nil {
		return x.opts.Now().UTC()
	}
	return time.Now().UTC()
}
