package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeGoVersionMatchesGoMod keeps the README's stated Go minimum and
// go.mod's go line the same.
func TestReadmeGoVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	r := regexp.MustCompile(`needs Go (\S+) or newer`).FindSubmatch(readme)
	if m == nil || r == nil {
		t.Fatalf("go.mod go line %q, README minimum %q: one is missing", m, r)
	}
	if string(m[1]) != string(r[1]) {
		t.Errorf("README says Go %s or newer, go.mod says go %s", r[1], m[1])
	}
}

// TestUserDocsSpeakWithoutProjectJargon keeps the project's internal
// vocabulary (the seed documents, issue numbers) and stale promises out of
// the README and the user docs.
func TestUserDocsSpeakWithoutProjectJargon(t *testing.T) {
	stale := regexp.MustCompile(`(?i)\bseeds? ?\d{3}\b|\bthe seeds?\b|\bseed's\b|\bthis issue\b|\blater issues?\b|\bissues? #?\d+\b|arrives with the`)
	files, _ := filepath.Glob("../../docs/*.md")
	readmes, _ := filepath.Glob("../../examples/*/README.md")
	files = append(append(files, "../../README.md"), readmes...)
	for _, f := range files {
		if docsNotRun[filepath.Base(f)] {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			if m := stale.FindString(line); m != "" {
				t.Errorf("%s:%d: %q: say it for a user", f, i+1, m)
			}
		}
	}
}
