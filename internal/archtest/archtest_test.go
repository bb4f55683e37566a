package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/steward-gov/steward/"

// allowed lists, for each of our packages, the packages of ours it may
// import. The graph points downward only (DESIGN.md, "Packages"). A new
// package must be added here, which is the moment to decide where it sits.
var allowed = map[string][]string{
	"internal/arm":                   nil,
	"internal/armexpr":               nil,
	"internal/cliout":                nil,
	"internal/archtest":              nil,
	"internal/atomicfile":            nil,
	"internal/policy":                {"internal/arm", "internal/armexpr", "internal/atomicfile"},
	"internal/policy/scan":           {"internal/arm", "internal/armexpr", "internal/policy", "internal/cliout"},
	"internal/rbac":                  {"internal/arm", "internal/armexpr", "internal/atomicfile"},
	"internal/template":              {"internal/arm", "internal/armexpr"},
	"internal/store":                 {"internal/arm"},
	"internal/seal":                  {"internal/store", "internal/atomicfile"},
	"internal/identity":              {"internal/arm", "internal/store", "internal/seal", "internal/atomicfile"},
	"internal/logs/kql":              {"internal/arm"},
	"internal/logs":                  {"internal/arm", "internal/store", "internal/seal", "internal/logs/kql", "internal/identity", "internal/rbac"},
	"internal/vault":                 {"internal/arm", "internal/store", "internal/seal", "internal/rbac", "internal/identity", "internal/atomicfile"},
	"internal/reports":               {"internal/arm", "internal/store"},
	"internal/alerts":                {"internal/arm", "internal/store", "internal/logs/kql"},
	"internal/interop":               {"*"},
	"internal/cloud":                 {"internal/arm", "internal/armexpr", "internal/policy", "internal/rbac", "internal/store", "internal/identity", "internal/template"},
	"internal/server":                {"*"},
	"cmd/steward":                    {"*"},
	"internal/storage":               {"internal/arm", "internal/store", "internal/identity", "internal/rbac"},
	"internal/cloud/storageaccounts": {"internal/arm", "internal/armexpr", "internal/policy", "internal/rbac", "internal/store", "internal/identity", "internal/cloud", "internal/storage", "internal/template"},
	"internal/identity/graph":        {"internal/identity", "internal/arm"},
	"internal/cloud/solutions":       {"internal/arm", "internal/rbac", "internal/store", "internal/identity", "internal/cloud"},
	"internal/vending":               {"internal/arm", "internal/vault/assertion"},
	"internal/collector":             {"internal/arm", "internal/store", "internal/vault/assertion"},
	"internal/cloud/consumption":     {"internal/arm"},
	"internal/web":                   nil,
}

// packages walks the module from the repository root and returns, per
// package directory, its imports of our own packages and whether any
// non-test file carries a package doc comment.
func packages(t *testing.T) (imports map[string]map[string]bool, documented map[string]bool) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports = map[string]map[string]bool{}
	documented = map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		isTest := strings.HasSuffix(path, "_test.go")
		if !isTest && f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			documented[rel] = true
		} else if _, ok := documented[rel]; !ok && !isTest {
			documented[rel] = false
		}
		if isTest {
			return nil // tests may import helpers from anywhere
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) {
				imports[rel][strings.TrimPrefix(p, module)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return imports, documented
}

func TestImportGraphPointsDown(t *testing.T) {
	imports, _ := packages(t)
	dirs := make([]string, 0, len(imports))
	for d := range imports {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		rule, ok := allowed[dir]
		if !ok {
			rule, ok = allowedByParent(dir)
		}
		if !ok {
			if len(imports[dir]) > 0 || strings.HasPrefix(dir, "internal/") {
				t.Errorf("package %s is not in the import table of archtest; add it with the packages it may import", dir)
			}
			continue
		}
		for imp := range imports[dir] {
			if !permits(rule, imp) && !strings.HasPrefix(imp, dir+"/") {
				t.Errorf("%s imports %s, which the design does not allow (allowed: %v)", dir, imp, rule)
			}
		}
	}
}

// allowedByParent applies a package's rule to its sub-packages (such as
// internal/policy/aliasdata), which may also import their parent.
func allowedByParent(dir string) ([]string, bool) {
	for p := filepath.ToSlash(filepath.Dir(dir)); p != "." && p != "/"; p = filepath.ToSlash(filepath.Dir(p)) {
		if rule, ok := allowed[p]; ok {
			return append(append([]string{}, rule...), p), true
		}
	}
	return nil, false
}

// permits reports whether rule allows importing imp. Allowing a package
// allows its sub-packages too (internal/rbac covers internal/rbac/abac).
func permits(rule []string, imp string) bool {
	for _, r := range rule {
		if r == "*" || r == imp || strings.HasPrefix(imp, r+"/") {
			return true
		}
	}
	return false
}

func TestEveryPackageHasDocComment(t *testing.T) {
	_, documented := packages(t)
	for dir, ok := range documented {
		if !ok {
			t.Errorf("package %s has no package doc comment", dir)
		}
	}
}

func TestRepositoryRootExists(t *testing.T) {
	if _, err := os.Stat("../../go.mod"); err != nil {
		t.Fatalf("archtest must run from internal/archtest: %v", err)
	}
}
