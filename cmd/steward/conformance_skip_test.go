package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSharedDataSkipsNameTheFetchScript checks that every test that skips
// because ../shared is absent tells the reader how to get the data.
func TestSharedDataSkipsNameTheFetchScript(t *testing.T) {
	skip := regexp.MustCompile(`\.Skipf?\("([^"]*)"`)
	err := filepath.WalkDir("../../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(src), "shared") {
			return nil
		}
		for _, m := range skip.FindAllStringSubmatch(string(src), -1) {
			msg := strings.ToLower(m[1])
			if (strings.Contains(msg, "shared") || strings.Contains(msg, "corpus") || strings.Contains(msg, "conformance")) &&
				!strings.Contains(msg, "fetch-conformance.sh") {
				t.Errorf("%s: skip message %q does not name scripts/fetch-conformance.sh", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("../../scripts/fetch-conformance.sh"); err != nil {
		t.Error(err)
	}
}
