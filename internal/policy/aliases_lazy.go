package policy

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A lazy alias table keeps its aliases compressed, one chunk per resource
// type (the alias name up to its last slash, lower case), and decodes a
// chunk the first time a lookup needs it. The built-in table has 65,398
// aliases over 1,209 types; a scan or a compile usually touches a handful
// of types, so decoding the whole table (a third of a second of CPU and
// tens of MB of live heap the garbage collector then walks on every cycle)
// is waste. The chunks are the entries of a zip archive, read in place
// from the embedded bytes; the archive comment holds the number of
// aliases, which Len reports without decoding anything.

// lazyAliases is the chunked source of a lazy table.
type lazyAliases struct {
	chunks map[string]*aliasChunk // by lower-case resource type
	count  int

	allOnce sync.Once
	all     *AliasTable // every chunk merged, for All and Merge
}

// aliasChunk is one resource type's aliases, decoded on first use.
type aliasChunk struct {
	file *zip.File
	once sync.Once
	t    *AliasTable
}

// aliasCountPrefix starts the archive comment of a chunked table.
const aliasCountPrefix = "aliases="

// loadLazyAliases opens a chunked table (see writeAliasChunks). The
// chunks are checked when they are decoded; Len is the count the archive
// states.
func loadLazyAliases(data []byte) (*AliasTable, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("alias chunks: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(zr.Comment, aliasCountPrefix))
	if err != nil || !strings.HasPrefix(zr.Comment, aliasCountPrefix) {
		return nil, fmt.Errorf("alias chunks: comment %q does not give the number of aliases", zr.Comment)
	}
	lz := &lazyAliases{chunks: make(map[string]*aliasChunk, len(zr.File)), count: n}
	for _, f := range zr.File {
		if f.Name != strings.ToLower(f.Name) || lz.chunks[f.Name] != nil {
			return nil, fmt.Errorf("alias chunks: entry %q is not a distinct lower-case resource type", f.Name)
		}
		lz.chunks[f.Name] = &aliasChunk{file: f}
	}
	return &AliasTable{lazy: lz}, nil
}

// chunk returns the decoded aliases of a lower-case resource type, nil
// when the table has none. The embedded table is checked whole by
// TestBuiltinAliasesMatchTheCorpus, so a chunk that fails to decode is a
// broken build, not an input error: it panics.
func (lz *lazyAliases) chunk(lt string) *AliasTable {
	c := lz.chunks[lt]
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		t, err := c.decode(lt)
		if err != nil {
			panic(err)
		}
		c.t = t
	})
	return c.t
}

func (c *aliasChunk) decode(lt string) (*AliasTable, error) {
	rc, err := c.file.Open()
	if err != nil {
		return nil, fmt.Errorf("alias chunk %s: %w", lt, err)
	}
	defer rc.Close()
	t, err := LoadAliasesCSV(rc)
	if err != nil {
		return nil, fmt.Errorf("alias chunk %s: %w", lt, err)
	}
	for k, a := range t.aliases {
		if aliasKeyType(k) != lt {
			return nil, fmt.Errorf("alias chunk %s: holds %s", lt, a.Name)
		}
	}
	return t, nil
}

// whole returns every chunk merged into one plain table.
func (lz *lazyAliases) whole() *AliasTable {
	lz.allOnce.Do(func() {
		t := NewAliasTable()
		for lt := range lz.chunks {
			t.Merge(lz.chunk(lt))
		}
		lz.all = t
	})
	return lz.all
}

// aliasKeyType is the chunk of a lower-case alias name: its resource type.
func aliasKeyType(ln string) string { return strings.ToLower(aliasResourceType(ln)) }

// aliasMap returns the map holding the alias ln (lower case) in this
// layer, decoding its chunk if the table is lazy.
func (t *AliasTable) aliasMap(ln string) map[string]*Alias {
	if t.lazy == nil {
		return t.aliases
	}
	if c := t.lazy.chunk(aliasKeyType(ln)); c != nil {
		return c.aliases
	}
	return nil
}

// typeMap returns the map holding the type lt (lower case) in this
// layer, decoding its chunk if the table is lazy.
func (t *AliasTable) typeMap(lt string) map[string]*TypeInfo {
	if t.lazy == nil {
		return t.types
	}
	if c := t.lazy.chunk(lt); c != nil {
		return c.types
	}
	return nil
}

// plain returns the table itself, or for a lazy table every chunk merged.
func (t *AliasTable) plain() *AliasTable {
	if t.lazy == nil {
		return t
	}
	return t.lazy.whole()
}

// writeAliasChunks writes t as a chunked table: a zip archive with one
// entry per resource type (its aliases as "alias,path" CSV lines, sorted
// by name), entries sorted, no timestamps, so the same table always gives
// the same bytes. Only names and default paths are kept (the CSV form's
// content).
func writeAliasChunks(w io.Writer, t *AliasTable) error {
	byType := map[string][]*Alias{}
	all := t.All()
	for _, a := range all {
		lt := aliasKeyType(strings.ToLower(a.Name))
		byType[lt] = append(byType[lt], a)
	}
	types := make([]string, 0, len(byType))
	for lt := range byType {
		types = append(types, lt)
	}
	sort.Strings(types)
	zw := zip.NewWriter(w)
	for _, lt := range types {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: lt, Method: zip.Deflate, Modified: time.Time{}})
		if err != nil {
			return err
		}
		var b bytes.Buffer
		for _, a := range byType[lt] {
			if strings.ContainsAny(a.Name+a.DefaultPath, "\",\r\n") {
				return fmt.Errorf("alias %q: name or path needs CSV quoting", a.Name)
			}
			b.WriteString(a.Name)
			b.WriteByte(',')
			b.WriteString(a.DefaultPath)
			b.WriteByte('\n')
		}
		if _, err := f.Write(b.Bytes()); err != nil {
			return err
		}
	}
	if err := zw.SetComment(aliasCountPrefix + strconv.Itoa(len(all))); err != nil {
		return err
	}
	return zw.Close()
}
