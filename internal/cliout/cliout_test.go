package cliout

import (
	"bytes"
	"testing"
)

func TestWriteTableAligns(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, []string{"name", "effect"}, [][]string{{"a", "deny"}, {"longer", "audit\nx"}}); err != nil {
		t.Fatal(err)
	}
	want := "NAME    EFFECT\na       deny\nlonger  audit x\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("JSON"); err != nil || f != JSON {
		t.Errorf("ParseFormat(JSON) = %q, %v", f, err)
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml) succeeded")
	}
	if f, err := ParseFormat("sarif", Table, JSON, "sarif"); err != nil || f != "sarif" {
		t.Errorf("ParseFormat(sarif) = %q, %v", f, err)
	}
}
