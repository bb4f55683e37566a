package armexpr

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// sharedDir returns ../shared next to the module root, or "" when absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(shared); err != nil {
				return ""
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// functionSuite is one functions/*.yaml file.
type functionSuite struct {
	Builtin string         `yaml:"builtin"`
	Cases   []functionCase `yaml:"cases"`
}

type functionCase struct {
	Note          string `yaml:"note"`
	Args          []any  `yaml:"args"`
	Want          any    `yaml:"want"`
	WantNull      bool   `yaml:"want_null"`
	WantUndefined bool   `yaml:"want_undefined"`
	WantError     string `yaml:"want_error"`
	hasWant       bool
}

// UnmarshalYAML records whether want was given, since want: null and no
// want differ.
func (c *functionCase) UnmarshalYAML(n *yaml.Node) error {
	type plain functionCase
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "want" {
			c.hasWant = true
		}
	}
	return nil
}

// conformanceNow is the clock the conformance cases run with.
var conformanceNow = time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC)

// TestFunctionConformance runs ../shared/conformance/azure-policy/functions
// through the library and checks the known-failures list both ways.
func TestFunctionConformance(t *testing.T) {
	shared := sharedDir(t)
	if shared == "" {
		t.Skip("../shared is absent: the function conformance cases are not available; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)")
	}
	files, err := filepath.Glob(filepath.Join(shared, "conformance", "azure-policy", "functions", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files found: %v", err)
	}
	known := readKnownFailures(t)
	passed, failed := 0, 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var suite functionSuite
		if err := yaml.Unmarshal(raw, &suite); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		base := filepath.Base(file)
		for _, c := range suite.Cases {
			id := base + ":" + c.Note
			problem := runFunctionCase(suite.Builtin, c)
			_, listed := known[id]
			delete(known, id)
			switch {
			case problem == "" && listed:
				t.Errorf("%s passes but is listed in testdata/known_failures.txt; remove it", id)
				passed++
			case problem == "":
				passed++
			case listed:
				failed++
			default:
				failed++
				t.Errorf("%s: %s", id, problem)
			}
		}
	}
	for id := range known {
		t.Errorf("testdata/known_failures.txt lists %s, which is not a case", id)
	}
	total := passed + failed
	t.Logf("function conformance: %d/%d passed (%.1f%%), %d known failures", passed, total, 100*float64(passed)/float64(total), failed)
}

// readKnownFailures reads "file:note  reason" lines.
func readKnownFailures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "known_failures.txt"))
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			t.Errorf("known failure %s has no reason", id)
		}
		out[id] = reason
	}
	return out
}

// runFunctionCase returns "" when the case passes, else what went wrong.
func runFunctionCase(builtin string, c functionCase) string {
	args := make([]any, len(c.Args))
	for i, a := range c.Args {
		args[i] = Normalize(a)
	}
	got, err := callBuiltin(builtin, args)
	switch {
	case c.WantError != "":
		if err == nil {
			return fmt.Sprintf("want error containing %q, got %s", c.WantError, show(got))
		}
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.WantError)) {
			return fmt.Sprintf("want error containing %q, got error %v", c.WantError, err)
		}
		return ""
	case c.WantUndefined:
		if err == nil {
			return fmt.Sprintf("want no value (an error), got %s", show(got))
		}
		return ""
	case err != nil:
		return fmt.Sprintf("unexpected error: %v", err)
	case c.WantNull:
		if got != nil {
			return fmt.Sprintf("want null, got %s", show(got))
		}
		return ""
	case !c.hasWant:
		return "the case has no expectation"
	}
	if want := Normalize(c.Want); !sameValue(got, want) {
		return fmt.Sprintf("want %s, got %s", show(want), show(got))
	}
	return ""
}

// sameValue compares with Equal: numbers by value (the YAML 42.0 is the
// integer 42 after Normalize), strings exactly.
func sameValue(got, want any) bool { return Equal(got, want) }

func show(v any) string {
	s, err := toJSON(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return fmt.Sprintf("%s (%s)", s, typeName(v))
}

// callBuiltin maps a conformance builtin name to the library, or to a
// host function for the engine-level look-ups.
func callBuiltin(builtin string, args []any) (any, error) {
	ec := &EvalContext{Now: conformanceNow}
	name := strings.TrimPrefix(strings.TrimPrefix(builtin, "azure.policy."), "fn.")
	switch name {
	case "if":
		return Call("if", args, ec)
	case "int_div":
		return Call("div", args, ec)
	case "int_mod":
		return Call("mod", args, ec)
	case "logic_all":
		return foldBool("and", true, args, ec)
	case "logic_any":
		return foldBool("or", false, args, ec)
	case "get_parameter":
		return getParameter(args, ec)
	case "resolve_field":
		return resolveField(args, ec)
	}
	return Call(camelCase(name), args, ec)
}

// foldBool applies and/or pairwise from its identity, so that zero or one
// argument works as the cases expect.
func foldBool(fn string, identity bool, args []any, ec *EvalContext) (any, error) {
	var acc any = identity
	for _, a := range args {
		v, err := Call(fn, []any{acc, a}, ec)
		if err != nil {
			return nil, err
		}
		acc = v
	}
	return acc, nil
}

// getParameter evaluates parameters(name) with a host that looks in the
// assignment's values and then in the definition's defaults, as the
// policy engine does.
func getParameter(args []any, ec *EvalContext) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("get_parameter takes 3 arguments")
	}
	values, _ := args[0].(map[string]any)
	defaults, _ := args[1].(map[string]any)
	ec.Host = func(name string, a []any) (any, bool, error) {
		if name != "parameters" {
			return nil, false, nil
		}
		key, ok := a[0].(string)
		if !ok {
			return nil, true, errorf(CodeArgumentType, "parameters() takes a string")
		}
		if v, ok := lookup(values, key); ok {
			return v, true, nil
		}
		if v, ok := lookup(defaults, key); ok {
			return v, true, nil
		}
		return nil, true, errorf(CodeNotFound, "the parameter '%s' is not defined", key)
	}
	return Eval(&Expr{X: &FuncCall{Name: "parameters", Args: []Node{literal(args[2])}}}, ec)
}

// resolveField evaluates field(path) with a host that follows a dotted
// path through the resource, as field() does for non-alias paths.
func resolveField(args []any, ec *EvalContext) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("resolve_field takes 2 arguments")
	}
	resource := args[0]
	ec.Host = func(name string, a []any) (any, bool, error) {
		if name != "field" {
			return nil, false, nil
		}
		path, ok := a[0].(string)
		if !ok {
			return nil, true, errorf(CodeArgumentType, "field() takes a string")
		}
		cur := resource
		for _, part := range strings.Split(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, true, errorf(CodeNotFound, "the field '%s' does not exist", path)
			}
			if cur, ok = lookup(m, part); !ok {
				return nil, true, errorf(CodeNotFound, "the field '%s' does not exist", path)
			}
		}
		return cur, true, nil
	}
	return Eval(&Expr{X: &FuncCall{Name: "field", Args: []Node{literal(args[1])}}}, ec)
}

// literal makes a node for a string or integer argument.
func literal(v any) Node {
	switch v := v.(type) {
	case int64:
		return &IntLit{Value: v}
	case float64:
		return &FloatLit{Value: v}
	case string:
		return &StringLit{Value: v}
	}
	return &StringLit{Value: fmt.Sprint(v)}
}

// camelCase turns "base64_to_json" into "base64ToJson".
func camelCase(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// TestFunctionConformanceCoversLibrary makes sure every conformance
// builtin resolves to a library function, so a typo in the mapping shows.
func TestFunctionConformanceCoversLibrary(t *testing.T) {
	shared := sharedDir(t)
	if shared == "" {
		t.Skip("../shared is absent: the function conformance cases are not available; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)")
	}
	files, _ := filepath.Glob(filepath.Join(shared, "conformance", "azure-policy", "functions", "*.yaml"))
	var missing []string
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		var suite functionSuite
		if err := yaml.Unmarshal(raw, &suite); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(suite.Builtin, "azure.policy."), "fn.")
		switch name {
		case "if", "int_div", "int_mod", "logic_all", "logic_any", "get_parameter", "resolve_field":
			continue
		}
		if lookupFunction(strings.ToLower(camelCase(name))) == nil {
			missing = append(missing, suite.Builtin)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("builtins without a library function: %v", missing)
	}
}
