package policy

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// SourceSum is the SHA-256 of the document a definition, set definition,
// assignment or exemption was parsed from. Two values with the same sum
// were parsed from the same bytes; a value built in code rather than
// parsed has none (Known is false). Compliance uses it to recognise an
// unchanged policy across processes.
type SourceSum struct {
	Sum   [sha256.Size]byte
	Known bool
}

func sumOf(data []byte) SourceSum { return SourceSum{Sum: sha256.Sum256(data), Known: true} }

// Source is the sum of the document d was parsed from.
func (d *Definition) Source() SourceSum { return d.src }

// Source is the sum of the document s was parsed from.
func (s *SetDefinition) Source() SourceSum { return s.src }

// Source is the sum of the document a was parsed from.
func (a *Assignment) Source() SourceSum { return a.src }

// Source is the sum of the document e was parsed from.
func (e *Exemption) Source() SourceSum { return e.src }

// Fingerprint is a digest of everything the table maps, its bases
// included: two tables with the same fingerprint resolve every alias and
// know every type alike. A chunked table is digested by its entries'
// names, checksums and sizes, without decoding them. It reads the whole
// table, so callers compute it once per table (tables are read-only once
// loaded).
func (t *AliasTable) Fingerprint() [sha256.Size]byte {
	h := sha256.New()
	for l := t; l != nil; l = l.base {
		if l.lazy != nil {
			names := slices.Sorted(maps.Keys(l.lazy.chunks))
			for _, n := range names {
				f := l.lazy.chunks[n].file
				fmt.Fprintf(h, "c%q %08x %d\n", n, f.CRC32, f.UncompressedSize64)
			}
			fmt.Fprintf(h, "lazy %d\n", l.lazy.count)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(l.aliases)) {
			b, _ := json.Marshal(l.aliases[k]) // exported fields only: all of them
			fmt.Fprintf(h, "a%q %s\n", k, b)
		}
		for _, k := range slices.Sorted(maps.Keys(l.types)) {
			b, _ := json.Marshal(l.types[k])
			fmt.Fprintf(h, "t%q %s\n", k, b)
		}
		fmt.Fprintf(h, "layer %t\n", l.metadata)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
