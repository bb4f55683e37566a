package abac

import (
	"strings"
	"testing"
)

// FuzzParseCondition checks that Parse never crashes, never hits its
// internal-error recovery, and that whatever it accepts prints back to text
// it accepts again, evaluating without panics.
func FuzzParseCondition(f *testing.F) {
	for _, c := range docExamples {
		f.Add(c)
	}
	for _, list := range corpusConditionsForSeed() {
		for _, c := range list {
			f.Add(c)
		}
	}
	f.Add(`{10, 20} ForAllOfAllValues:NumericLessThan {25, 30}`)
	f.Add(`@Environment[UtcNow] DateTimeGreaterThan '2026-11-22T07:59:59.0000000Z' && NOT Exists @Request[x]`)
	f.Fuzz(func(t *testing.T, src string) {
		x, err := Parse(src)
		if err != nil {
			if strings.Contains(err.Error(), "internal parser error") {
				t.Fatalf("Parse(%q) panicked: %v", src, err)
			}
			return
		}
		roundTrip(t, src)
		env := assignmentEnv(writeAction, ownerRole, someoneElse, "User")
		_, _ = Eval(x, env)
	})
}

// corpusConditionsForSeed reads the corpus conditions without failing when
// the corpus is absent: the fuzzer then runs from the doc examples alone.
func corpusConditionsForSeed() (out map[string][]string) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	tb := &seedTB{}
	return corpusConditions(tb)
}

// seedTB is a testing.TB whose Skip and Fatal abort by panicking, so the
// corpus reader can be reused while seeding.
type seedTB struct{ testing.TB }

func (*seedTB) Skipf(string, ...any) { panic("skip") }
func (*seedTB) Fatal(...any)         { panic("fatal") }
