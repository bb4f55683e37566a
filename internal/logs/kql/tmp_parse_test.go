package kql

import "testing"

func TestTmpParseAll(t *testing.T) {
	n := 0
	for _, c := range loadCases(t) {
		q, err := Parse(c.KQL)
		if err != nil {
			if !c.Expect.Error {
				n++
				t.Logf("%s: %v\n   %s", c.ID, err, c.KQL)
			}
			continue
		}
		s := q.String()
		q2, err := Parse(s)
		if err != nil {
			t.Errorf("%s: reparse: %v\n  %s", c.ID, err, s)
			continue
		}
		if q2.String() != s {
			t.Errorf("%s: roundtrip\n  %s\n  %s", c.ID, s, q2.String())
		}
	}
	t.Logf("parse failures: %d", n)
}
