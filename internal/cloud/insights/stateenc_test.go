package insights

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/steward-gov/steward/internal/policy"
)

// encodeStrings are strings that encoding/json escapes in each of its
// ways, with plain ones.
var encodeStrings = []string{"", "plain", "Microsoft.Web/sites", `quote " and \ backslash`, "<html>&amp;",
	"tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f", "é ünïcödé 日本", "\u2028\u2029", "bad \xff utf8 \xc3",
	"\xed\xa0\x80 surrogate", "emoji 🙂"}

// TestAppendStoredIsJSONMarshal: the hand-written encoder writes what
// json.Marshal writes for the same value, byte for byte, so states
// stored by either compare equal (sameContent) and decode alike.
func TestAppendStoredIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return encodeStrings[r.IntN(len(encodeStrings))]
	}
	list := func() []string {
		var out []string
		for range r.IntN(3) {
			out = append(out, pick())
		}
		return out
	}
	for i := range 5000 {
		v := &stored{T: r.Int64N(1 << 45), R: pick(), RT: pick(), L: pick(), A: pick(), D: pick(), S: pick(), F: pick(),
			E: pick(), G: list(), C: pick(), M: list(), RC: pick()}
		if r.IntN(3) == 0 {
			v.RU = []int{r.IntN(200)}
		}
		if r.IntN(3) == 0 {
			v.AU = []int{r.IntN(200), 200 + r.IntN(200)}
		}
		if n := r.IntN(4); n > 0 {
			v.Tg = map[string]string{}
			for range n {
				v.Tg[pick()] = pick()
			}
		}
		if r.IntN(4) == 0 {
			v.X = []policy.EvaluatedExpression{{Expression: pick(), Path: pick(), ExpressionValue: pick(), TargetValue: []any{pick(), 1.5}, Operator: "Equals", Result: true}}
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendStored(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: appendStored wrote\n%s\njson.Marshal writes\n%s", i, got, want)
		}
	}
}

// FuzzAppendJSONString: any string is quoted as json.Marshal quotes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range encodeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
