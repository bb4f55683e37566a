package policyprovider

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// maxBuiltInFile caps one built-in definition file.
const maxBuiltInFile = 4 << 20

// builtinSet is the built-in definitions and set definitions of a
// directory, loaded once on first use. Without a directory it is empty.
type builtinSet struct {
	dir  string
	once sync.Once
	defs map[string]map[string]any // lower-case name -> document
	sets map[string]map[string]any
	// defList and setList are the documents sorted by name.
	defList, setList []map[string]any
}

func (b *builtinSet) load() {
	b.once.Do(func() {
		b.defs, b.sets = map[string]map[string]any{}, map[string]map[string]any{}
		if b.dir == "" {
			return
		}
		b.defList = readBuiltIns(filepath.Join(b.dir, "policyDefinitions"), TypeDefinition, b.defs)
		b.setList = readBuiltIns(filepath.Join(b.dir, "policySetDefinitions"), TypeSetDefinition, b.sets)
	})
}

// readBuiltIns reads every JSON file below dir that names itself (a name
// property) into index and returns the documents sorted by name. Files
// that do not parse are skipped: the corpus is data, not code.
func readBuiltIns(dir, typ string, index map[string]map[string]any) []map[string]any {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(strings.ToLower(path), ".json") {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxBuiltInFile {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var doc map[string]any
		if json.Unmarshal(b, &doc) != nil {
			return nil
		}
		name, _ := doc["name"].(string)
		if name == "" {
			return nil
		}
		doc["type"] = typ
		doc["id"] = "/providers/" + typ + "/" + name
		index[strings.ToLower(name)] = doc
		return nil
	})
	out := make([]map[string]any, 0, len(index))
	for _, d := range index {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	return out
}

// definition returns a built-in by name.
func (b *builtinSet) get(k kind, name string) (map[string]any, bool) {
	b.load()
	m := b.defs
	if k == kindSet {
		m = b.sets
	}
	d, ok := m[strings.ToLower(name)]
	return d, ok
}

// list returns the built-ins of a kind, sorted by name.
func (b *builtinSet) list(k kind) []map[string]any {
	b.load()
	if k == kindSet {
		return b.setList
	}
	return b.defList
}
