package armexpr

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds returns the shipped seeds and, when ../shared is present,
// every distinct expression of the policy corpus.
func fuzzSeeds(f *testing.F) []string {
	file, err := os.Open(filepath.Join("testdata", "seeds.txt"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	var seeds []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			seeds = append(seeds, line)
		}
	}
	return append(seeds, corpusExpressions(f)...)
}

// FuzzParse checks that Parse never fails internally and that what it
// accepts prints back to an equal tree.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if strings.Contains(err.Error(), "internal parser error") {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			return
		}
		printed := n.String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", s, printed, err)
		}
		if !sameTree(n, again) || again.String() != printed {
			t.Fatalf("Parse(%q) printed %q, which parses to %q", s, printed, again.String())
		}
	})
}

// FuzzEval checks that evaluating any parsed expression returns a value
// or an *Error, never a recovered panic.
func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	resource := map[string]any{"name": "vm1", "tags": map[string]any{"env": "prod"}, "properties": map[string]any{"addressPrefix": "10.1.0.0/16"}}
	host := func(name string, args []any) (any, bool, error) {
		switch name {
		case "field", "parameters", "variables", "current":
			if len(args) == 1 {
				if k, ok := args[0].(string); ok {
					if v, ok := lookup(resource, k); ok {
						return v, true, nil
					}
				}
			}
			return []any{"eastus", int64(1)}, true, nil
		case "resourcegroup", "subscription", "requestcontext", "policy":
			return map[string]any{"id": "/subscriptions/x", "location": "eastus", "apiVersion": "2024-01-01", "identity": map[string]any{}}, true, nil
		}
		return nil, false, nil
	}
	ec := &EvalContext{Now: time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC), Host: host}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if _, err := Eval(n, ec); err != nil {
			if _, ok := err.(*Error); !ok || strings.Contains(err.Error(), "internal evaluation error") {
				t.Fatalf("Eval(%q): %v", s, err)
			}
		}
	})
}

// FuzzFunctions calls every library function with fuzzed strings and
// integers in several argument shapes; each call must return a value or
// an *Error. It reaches the functions' own parsers (format strings,
// dates, durations, addresses, base64, URIs, JSON) that FuzzEval seldom
// reaches through whole expressions.
func FuzzFunctions(f *testing.F) {
	f.Add("{0,-5:N2} {{x}}", "P1DT2H", int64(3))
	f.Add("2024-01-15 12:00:00.5+05:30", "yyyy-MM-ddTHH:mm:ssK", int64(-1))
	f.Add("10.0.0.0/8", "10.1.2.3-10.1.2.9", int64(24))
	f.Add("data:text/plain;base64,aGk=", "a%2Fb", int64(0))
	f.Add(`{"a":[1,2.5,"x"]}`, "Straße", int64(1<<40))
	names := Functions()
	ec := &EvalContext{Now: time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, s1, s2 string, n int64) {
		shapes := [][]any{{s1}, {s1, s2}, {s1, n}, {s1, s2, s1}, {s1, n, s2}, {s1, s2, n}, {n, s1}, {[]any{s1, n}, s2}}
		for _, name := range names {
			for _, args := range shapes {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s%q panicked: %v", name, args, r)
						}
					}()
					if _, err := Call(name, args, ec); err != nil {
						if _, ok := err.(*Error); !ok {
							t.Fatalf("%s%q returned %T", name, args, err)
						}
					}
				}()
			}
		}
	})
}
