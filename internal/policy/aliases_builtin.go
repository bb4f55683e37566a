package policy

import (
	"bytes"
	"compress/gzip"
	_ "embed" // the built-in alias table
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/steward-gov/steward/internal/atomicfile"
)

// builtinAliasData is Azure's alias table (alias and default path; 65,398
// aliases of the public cloud, 2024) as chunks a resource type each (see
// aliases_lazy.go), made from the corpus's policy-aliases.csv.gz by
// `go test ./internal/policy -run TestBuiltinAliasesMatchTheCorpus -update-aliases`.
// Its source and licence are in aliasdata/LICENSE.
//
//go:embed aliasdata/policy-aliases.zip
var builtinAliasData []byte

// builtinAliases opens the embedded table once, on first use; its chunks
// are decoded as lookups reach them, so a command pays only for the
// resource types its definitions name.
var builtinAliases = sync.OnceValues(func() (*AliasTable, error) {
	return loadLazyAliases(builtinAliasData)
})

// BuiltinAliases returns the alias table compiled into Steward. It is
// shared: extend it with Layer, never with Add or Merge.
func BuiltinAliases() (*AliasTable, error) { return builtinAliases() }

// AliasOverrideFile is where `steward policy aliases update` stores a
// table refreshed from Azure: $XDG_CONFIG_HOME/steward/policy-aliases.json.gz
// (or the platform's user configuration directory). When it exists it is
// used instead of the built-in table.
func AliasOverrideFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "steward", "policy-aliases.json.gz"), nil
}

// AliasSource says where DefaultAliases found its base table.
type AliasSource struct {
	// Override is the refreshed table's path, empty when the built-in
	// table is used.
	Override string
	// Imported is the directory of tables added by `aliases import`.
	Imported string
}

// DefaultAliases returns the table every policy command and the server
// use unless told otherwise: the override file when it exists (see
// AliasOverrideFile), else the built-in table, with the tables stored by
// `steward policy aliases import` layered over it.
func DefaultAliases() (*AliasTable, AliasSource, error) {
	var src AliasSource
	base, err := BuiltinAliases()
	if err != nil {
		return nil, src, fmt.Errorf("built-in alias table: %w", err)
	}
	if f, err := AliasOverrideFile(); err == nil {
		data, err := os.ReadFile(f)
		switch {
		case err == nil:
			if base, err = LoadAliases(data); err != nil {
				return nil, src, fmt.Errorf("%s: %w (delete it to use the built-in table)", f, err)
			}
			src.Override = f
		case !errors.Is(err, os.ErrNotExist):
			return nil, src, err
		}
	}
	t := Layer(base)
	if dir, err := DefaultAliasDir(); err == nil {
		imported, err := LoadAliasDir(dir)
		if err != nil {
			return nil, src, err
		}
		if imported.Len() > 0 {
			t.Merge(imported)
			src.Imported = dir
		}
	}
	return t, src, nil
}

// UpdateAliases checks that data is an alias table (normally the JSON of
// `az provider list --expand resourceTypes/aliases`) and stores it,
// gzip-compressed and atomically, as the override file path. It returns
// the number of aliases stored.
func UpdateAliases(data []byte, path string) (int, error) {
	t, err := LoadAliases(data)
	if err != nil {
		return 0, err
	}
	if t.Len() == 0 {
		return 0, errors.New("no aliases found (want the JSON of `az provider list --expand resourceTypes/aliases`)")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return t.Len(), nil
}
