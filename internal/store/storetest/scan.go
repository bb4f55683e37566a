package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// seed writes keys (value = key) into table in one transaction.
func seed(t *testing.T, s store.Store, table string, keys []string) {
	t.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, k := range keys {
			if _, err := tx.Put(context.Background(), table, k, []byte(k), store.Cond{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bytewise returns keys sorted in byte order, the order Scan promises.
func bytewise(keys []string) []string {
	out := slices.Clone(keys)
	slices.Sort(out) // Go compares strings bytewise
	return out
}

// filter keeps the keys for which keep is true.
func filter(keys []string, keep func(string) bool) []string {
	var out []string
	for _, k := range keys {
		if keep(k) {
			out = append(out, k)
		}
	}
	return out
}

// scanKeys is a mixed set: nested ARM-like paths, case, unicode and the
// largest code point, so ordering and prefix bounds are exercised.
var scanKeys = []string{
	"/subscriptions/s1", "/subscriptions/s1/resourcegroups/rg1", "/subscriptions/s1/resourcegroups/rg1/providers/x/y/z",
	"/subscriptions/s1/resourcegroups/rg2", "/subscriptions/s10", "/subscriptions/s2",
	"A", "B", "a", "a/b", "a/c", "a\U0010FFFF", "a\U0010FFFFz", "ab", "b", "é", "日本", "😀",
}

var scanTests = []test{
	{"WholeTableInByteOrder", func(t *testing.T, s store.Store) {
		seed(t, s, "res", scanKeys)
		seed(t, s, "other", []string{"a", "zzz"})
		got, _ := scanAll(t, s, "res", store.Query{})
		if want := bytewise(scanKeys); !slices.Equal(got, want) {
			t.Fatalf("scan order\n got %q\nwant %q", got, want)
		}
	}},
	{"PagingVisitsEveryKeyOnce", func(t *testing.T, s store.Store) {
		var keys []string
		for i := range 257 {
			keys = append(keys, fmt.Sprintf("k%04d", i))
		}
		seed(t, s, "res", keys)
		for _, size := range []int{1, 2, 10, 100, 256, 257, 1000} {
			got, pages := scanAll(t, s, "res", store.Query{Limit: size})
			if !slices.Equal(got, keys) {
				t.Fatalf("page size %d: got %d keys, want %d", size, len(got), len(keys))
			}
			if want := (len(keys) + size - 1) / size; pages != want && pages != want+1 {
				t.Fatalf("page size %d: %d pages, want %d", size, pages, want)
			}
		}
	}},
	{"PrefixSelectsItsSubtree", func(t *testing.T, s store.Store) {
		seed(t, s, "res", scanKeys)
		for _, p := range []string{"/subscriptions/s1", "/subscriptions/s1/", "a", "a\U0010FFFF", "é", "none", "/"} {
			got, _ := scanAll(t, s, "res", store.Query{Prefix: p, Limit: 3})
			want := filter(bytewise(scanKeys), func(k string) bool { return strings.HasPrefix(k, p) })
			if !slices.Equal(got, want) {
				t.Fatalf("prefix %q\n got %q\nwant %q", p, got, want)
			}
		}
	}},
	{"StartAndEndBoundTheRange", func(t *testing.T, s store.Store) {
		seed(t, s, "res", scanKeys)
		cases := []store.Query{
			{Start: "a", End: "b"}, {Start: "a/c"}, {End: "B"}, {Start: "b", End: "a"},
			{Prefix: "a", Start: "a/c", End: "a\U0010FFFFz"}, {Start: "z", End: "z"},
		}
		for _, q := range cases {
			got, _ := scanAll(t, s, "res", store.Query{Prefix: q.Prefix, Start: q.Start, End: q.End, Limit: 2})
			want := filter(bytewise(scanKeys), func(k string) bool {
				return strings.HasPrefix(k, q.Prefix) && k >= q.Start && (q.End == "" || k < q.End)
			})
			if !slices.Equal(got, want) {
				t.Fatalf("query %+v\n got %q\nwant %q", q, got, want)
			}
		}
	}},
	{"KeysOnlyOmitsValues", func(t *testing.T, s store.Store) {
		seed(t, s, "res", []string{"a", "b"})
		err := s.View(context.Background(), func(tx store.Tx) error {
			page, err := tx.Scan(context.Background(), "res", store.Query{KeysOnly: true})
			if err != nil {
				return err
			}
			if len(page.Records) != 2 || page.Records[0].Value != nil || page.Records[0].ETag == "" {
				t.Fatalf("keys-only page %+v", page.Records)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"ScanReturnsValuesAndETags", func(t *testing.T, s store.Store) {
		w := mustPut(t, s, "res", "a", "value-a")
		err := s.View(context.Background(), func(tx store.Tx) error {
			page, err := tx.Scan(context.Background(), "res", store.Query{})
			if err != nil {
				return err
			}
			if len(page.Records) != 1 || string(page.Records[0].Value) != "value-a" || page.Records[0].ETag != w.ETag {
				t.Fatalf("page %+v, want value-a with etag %s", page.Records, w.ETag)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"OversizedLimitIsCapped", func(t *testing.T, s store.Store) {
		var keys []string
		for i := range store.MaxPageSize + 5 {
			keys = append(keys, fmt.Sprintf("k%05d", i))
		}
		seed(t, s, "res", keys)
		err := s.View(context.Background(), func(tx store.Tx) error {
			page, err := tx.Scan(context.Background(), "res", store.Query{Limit: 1 << 30})
			if err != nil {
				return err
			}
			if len(page.Records) != store.MaxPageSize || page.Next == "" {
				t.Fatalf("page of %d with next %q, want %d and a token", len(page.Records), page.Next, store.MaxPageSize)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"BadQueriesAreInvalid", func(t *testing.T, s store.Store) {
		for _, q := range []store.Query{{After: "garbage"}, {After: "k1.!!"}, {Limit: -1}, {Prefix: "\xff"}} {
			err := s.View(context.Background(), func(tx store.Tx) error {
				_, err := tx.Scan(context.Background(), "res", q)
				return err
			})
			wantErr(t, fmt.Sprintf("query %+v", q), err, store.ErrInvalid)
		}
	}},
	{"EmptyTableHasOneEmptyPage", func(t *testing.T, s store.Store) {
		got, pages := scanAll(t, s, "nothing", store.Query{})
		if len(got) != 0 || pages != 1 {
			t.Fatalf("got %q in %d pages", got, pages)
		}
	}},
}
