package storetest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// modelAlphabet mixes ASCII of both cases, separators, and runes of every
// UTF-8 length, including the largest code point, so that random keys hit
// the edges of bytewise ordering and prefix bounds.
var modelAlphabet = []string{"a", "b", "B", "/", "-", "0", "é", "ÿ", "Ā", "日", "\uffff", "😀", "\U0010FFFF"}

func randomKey(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(4) {
		b.WriteString(modelAlphabet[r.IntN(len(modelAlphabet))])
	}
	return b.String()
}

// modelTests hold a model-based check: random keys, random
// queries, and the result of paging through each query compared with
// filtering and sorting the keys in Go. The seed is fixed so a failure
// reproduces.
var modelTests = []test{
	{"RandomQueriesMatchAModel", func(t *testing.T, s store.Store) {
		r := rand.New(rand.NewPCG(4, 2))
		set := map[string]bool{}
		for range 300 {
			set[randomKey(r)] = true
		}
		var keys []string
		for k := range set {
			keys = append(keys, k)
		}
		seed(t, s, "model", keys)
		keys = bytewise(keys)
		pick := func() string {
			if r.IntN(3) == 0 {
				return ""
			}
			return randomKey(r)
		}
		for range 60 {
			q := store.Query{Limit: 1 + r.IntN(40)}
			switch r.IntN(3) {
			case 0:
				q.Prefix = pick()
			case 1:
				q.Start, q.End = pick(), pick()
			default:
				q.Prefix, q.Start, q.End = pick(), pick(), pick()
			}
			got, _ := scanAll(t, s, "model", q)
			want := filter(keys, func(k string) bool {
				return strings.HasPrefix(k, q.Prefix) && k >= q.Start && (q.End == "" || k < q.End)
			})
			if !slices.Equal(got, want) {
				t.Fatalf("query prefix=%q start=%q end=%q limit=%d\n got %q\nwant %q", q.Prefix, q.Start, q.End, q.Limit, got, want)
			}
		}
	}},
}
