package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the estate reader: it must never
// panic, and every record it hands on is either a resource with an id and
// a type or an error that names where it was.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"estate.json", "estate-graph.json", "estate.jsonl"} {
		if data, err := os.ReadFile(filepath.Join(examples, name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("[" + res("a") + ",{\"id\":1},]"))
	f.Add([]byte("{\"data\": [" + res("a") + "], \"count\": 1}\n{\"data\": []}"))
	f.Add([]byte(res("a") + "\n{\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatAuto, FormatJSON, FormatJSONL} {
			_, _ = Read(context.Background(), strings.NewReader(string(data)), format, func(r Record) error {
				switch {
				case r.Err != nil && r.Where == "":
					t.Fatalf("record error without a location: %v", r.Err)
				case r.Err == nil && (lookupString(r.Doc, "id") == "" || lookupString(r.Doc, "type") == ""):
					t.Fatalf("record without id or type: %v", r.Doc)
				}
				return nil
			})
		}
	})
}
