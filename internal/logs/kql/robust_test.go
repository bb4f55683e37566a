package kql

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// TestMutatedQueriesNeverCrash runs the conformance queries with random
// token edits (replaced by edge values, dropped, swapped; fixed seed) and
// requires every one to end in a result or a query error, never in a
// recovered panic.
func TestMutatedQueriesNeverCrash(t *testing.T) {
	cases := loadCases(t)
	rng := rand.New(rand.NewSource(1))
	edge := []string{"null", "0", "-1", "dynamic(null)", `""`, "real(nan)", "datetime(null)", "long(null)",
		"dynamic([])", "dynamic({})", "1d", "99999999999", "real(-inf)", "*", "|", "("}
	ran := 0
	for _, c := range cases {
		for k := 0; k < 5; k++ {
			toks := strings.Fields(c.KQL)
			for m := 0; m < 1+rng.Intn(3) && len(toks) > 2; m++ {
				i := rng.Intn(len(toks))
				switch rng.Intn(3) {
				case 0:
					toks[i] = edge[rng.Intn(len(edge))]
				case 1:
					toks = append(toks[:i], toks[i+1:]...)
				case 2:
					j := rng.Intn(len(toks))
					toks[i], toks[j] = toks[j], toks[i]
				}
			}
			q := strings.Join(toks, " ")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := Run(ctx, q, Options{})
			cancel()
			ran++
			var ie *InternalError
			if errors.As(err, &ie) {
				t.Errorf("internal error %s for query:\n%s", ie.Detail, q)
			}
		}
	}
	t.Logf("ran %d mutated queries", ran)
}
