package main

import (
	"os"
	"regexp"
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
