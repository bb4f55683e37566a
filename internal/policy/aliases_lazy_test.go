package policy

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"sync"
	"testing"
)

var updateAliases = flag.Bool("update-aliases", false, "rewrite aliasdata/policy-aliases.zip from the corpus's policy-aliases.csv.gz")

const builtinAliasFile = "aliasdata/policy-aliases.zip"

// TestBuiltinAliasesMatchTheCorpus checks that the embedded chunks are
// exactly the corpus's CSV table, written the way writeAliasChunks writes
// it: same aliases, paths and count, every chunk decodable.
func TestBuiltinAliasesMatchTheCorpus(t *testing.T) {
	want := loadCorpusAliases(t)
	var chunks bytes.Buffer
	if err := writeAliasChunks(&chunks, want); err != nil {
		t.Fatal(err)
	}
	if *updateAliases {
		if err := os.WriteFile(builtinAliasFile, chunks.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(chunks.Bytes(), builtinAliasData) {
		t.Fatalf("%s is not what the corpus table gives: run this test with -update-aliases", builtinAliasFile)
	}
	got, err := loadLazyAliases(builtinAliasData)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() {
		t.Errorf("Len = %d, want %d", got.Len(), want.Len())
	}
	ga, wa := got.All(), want.All()
	if len(ga) != len(wa) {
		t.Fatalf("All has %d aliases, want %d", len(ga), len(wa))
	}
	for i := range wa {
		g, w := ga[i], wa[i]
		if g.Name != w.Name || g.DefaultPath != w.DefaultPath || g.ResourceType != w.ResourceType || len(g.Paths) != 0 {
			t.Fatalf("alias %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestLazyAliasesDecodeOnlyWhatIsAsked checks the lazy table's lookups
// against a plain one and that a lookup decodes its own type's chunk only.
func TestLazyAliasesDecodeOnlyWhatIsAsked(t *testing.T) {
	plain, err := LoadAliasesCSV(strings.NewReader(strings.Join([]string{
		"Microsoft.Web/sites/httpsOnly,properties.httpsOnly",
		"Microsoft.Web/sites/config/minTlsVersion,properties.minTlsVersion",
		"Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly,properties.supportsHttpsTrafficOnly",
		"Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].value,properties.networkAcls.ipRules[*].value",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeAliasChunks(&b, plain); err != nil {
		t.Fatal(err)
	}
	lazy, err := loadLazyAliases(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if lazy.Len() != 4 {
		t.Errorf("Len = %d, want 4", lazy.Len())
	}
	decoded := func() (n int) {
		for _, c := range lazy.lazy.chunks {
			if c.t != nil {
				n++
			}
		}
		return n
	}
	if n := decoded(); n != 0 {
		t.Fatalf("%d chunks decoded before any lookup", n)
	}
	layer := Layer(lazy)
	for _, name := range []string{"microsoft.storage/storageaccounts/SUPPORTSHTTPSTRAFFICONLY", "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].value",
		"Microsoft.Storage/storageAccounts/missing", "Microsoft.Nope/things/x"} {
		a, ok := layer.Lookup(name)
		w, wok := plain.Lookup(name)
		if ok != wok || ok && (a.Name != w.Name || a.DefaultPath != w.DefaultPath || a.ResourceType != w.ResourceType) {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", name, a, ok, w, wok)
		}
	}
	if n := decoded(); n != 1 {
		t.Errorf("%d chunks decoded after looking up storage aliases, want 1", n)
	}
	if _, ok := layer.Type("MICROSOFT.WEB/SITES"); !ok {
		t.Error("Type(Microsoft.Web/sites) not found")
	}
	if n := decoded(); n != 2 {
		t.Errorf("%d chunks decoded after asking for a web type, want 2", n)
	}
	if len(layer.All()) != 4 {
		t.Errorf("All has %d aliases, want 4", len(layer.All()))
	}
	merged := NewAliasTable()
	merged.Merge(layer)
	if merged.Len() != 4 {
		t.Errorf("a plain table merged from the lazy one has %d aliases, want 4", merged.Len())
	}
	// concurrent first lookups decode a chunk once and agree
	lazy2, _ := loadLazyAliases(b.Bytes())
	var wg sync.WaitGroup
	found := make([]*Alias, 8)
	for i := range found {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i], _ = lazy2.Lookup("Microsoft.Web/sites/config/minTlsVersion")
		}()
	}
	wg.Wait()
	for _, a := range found {
		if a == nil || a != found[0] {
			t.Fatalf("concurrent lookups gave %v", found)
		}
	}
}

func TestLazyAliasesRefuseABadArchive(t *testing.T) {
	if _, err := loadLazyAliases([]byte("not a zip")); err == nil {
		t.Error("loadLazyAliases accepted bytes that are not a zip archive")
	}
	var b bytes.Buffer
	if err := writeAliasChunks(&b, NewAliasTable()); err != nil {
		t.Fatal(err)
	}
	data := bytes.Replace(b.Bytes(), []byte(aliasCountPrefix), []byte("ALIASES="), 1)
	if _, err := loadLazyAliases(data); err == nil {
		t.Error("loadLazyAliases accepted an archive without the alias count")
	}
}
