package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusFiles lists the built-in definition and set files of the corpus.
func corpusFiles(t testing.TB) (defs, sets []string) {
	t.Helper()
	root := requireShared(t, "corpus/azure-policy/built-in-policies")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		switch {
		case strings.Contains(path, "/policyDefinitions/"):
			defs = append(defs, path)
		case strings.Contains(path, "/policySetDefinitions/"):
			sets = append(sets, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defs, sets
}

func TestCorpusDefinitionsCompile(t *testing.T) {
	defs, sets := corpusFiles(t)
	if len(defs) < 5000 || len(sets) < 250 {
		t.Fatalf("corpus has %d definitions and %d sets, want 5,009 and 257", len(defs), len(sets))
	}
	byName := map[string]*Definition{}
	failed := 0
	for _, path := range defs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseDefinition(data)
		if err == nil {
			_, err = Compile(d, CompileOptions{})
		}
		if err != nil {
			failed++
			t.Errorf("%s: %v", path, err)
			continue
		}
		byName[strings.ToLower(d.Name)] = d
	}
	t.Logf("definitions: %d/%d compile", len(defs)-failed, len(defs))
	setFailed, missing, refs := 0, 0, 0
	resolve := func(id string) (*Definition, error) {
		if d, ok := byName[strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("definition %s is not in the corpus", id)
	}
	for _, path := range sets {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSetDefinition(data)
		if err == nil {
			_, err = CompileSet(s, resolve, CompileOptions{})
		}
		if err != nil {
			setFailed++
			t.Errorf("%s: %v", path, err)
			continue
		}
		for _, m := range s.Members {
			refs++
			if _, ok := byName[strings.ToLower(m.DefinitionID[strings.LastIndexByte(m.DefinitionID, '/')+1:])]; !ok {
				missing++
			}
		}
	}
	t.Logf("sets: %d/%d parse and compile; %d of %d member references name a definition outside the corpus snapshot", len(sets)-setFailed, len(sets), missing, refs)
}
