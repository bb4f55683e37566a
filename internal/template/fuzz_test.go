package template

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzExpand feeds arbitrary templates to Parse and Expand: they must
// return a result or an error, never panic or hang, and template problems
// must be *Error values.
func FuzzExpand(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"$schema": "x", "contentVersion": "1.0.0.0", "resources": [{"type": "a/b", "apiVersion": "1", "name": "[string(copyIndex())]", "copy": {"name": "l", "count": 3}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tm, err := Parse(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error %T: %v", err, err)
			}
			return
		}
		_, err = Expand(tm, Options{Scope: testScope, DeploymentName: "fuzz",
			Parameters: map[string]any{"adminPassword": "x"}})
		_ = err // errors of any shape are acceptable from parameters; panics are not
	})
}
