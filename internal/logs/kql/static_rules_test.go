package kql

import (
	"context"
	"strings"
	"testing"
)

// TestStaticTypeRules covers the compile-time rules of the Kusto reference
// that a query meets before it runs: the operands of and/or, typed
// literals inside a dynamic literal, keywords as column names.
func TestStaticTypeRules(t *testing.T) {
	for _, tc := range []struct{ q, err string }{
		// logical-operators: and/or take bool operands
		{"print 1 and true", "'and' needs bool operands"},
		{"print x = true or 1", "'or' needs bool operands"},
		{`print "a" or false`, "'or' needs bool operands"},
		{"print toscalar(print 1) and true", "'and' needs bool operands"},
		// dynamic literals take typed literals, but only valid ones
		{"print dynamic([datetime(nope)])", "invalid dynamic literal"},
		{"print dynamic({'a': long(x)})", "invalid dynamic literal"},
		{`print dynamic([dynamic({"a":})])`, "invalid dynamic literal"},
		// keywords cannot name a column unless quoted
		{"print where = 1", "keyword"},
		{"print has = 1", "keyword"},
		{"datatable(x:long)[1] | extend asc = 1", ""},
	} {
		_, err := Run(context.Background(), tc.q, Options{})
		if err == nil {
			t.Errorf("%s: no error", tc.q)
			continue
		}
		if tc.err != "" && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.q, err, tc.err)
		}
	}
	for _, tc := range []struct{ q, want string }{
		{"print ['where'] = 1", "1"},
		{`print r = tostring(dynamic({"a": datetime(1970-05-11)}))`, `{"a":"1970-05-11T00:00:00.0000000Z"}`},
		{`print r = tostring(dynamic([1h, timespan(2d), real(1.5), long(2), int(null), bool(true), guid(ae3133f2-6e22-49ae-b06a-16e6a9b212eb), 'x']))`,
			`[` + `"01:00:00","2.00:00:00",1.5,2,null,true,"ae3133f2-6e22-49ae-b06a-16e6a9b212eb","x"]`},
		{`print r = tostring(dynamic({"inner": dynamic([1, {"b": dynamic(null)}]), "s": "dynamic(1)"}))`, `{"inner":[1,{"b":null}],"s":"dynamic(1)"}`},
		{"print r = gettype(dynamic([dynamic(1)])[0])", "long"},
		{"print r = dynamic([1e3, -2, 0.5])[2]", "0.5"},
		// logical-operators: a null bool operand counts as false
		{"print r = bool(null) and true", "False"},
		{"print r = bool(null) or true", "True"},
		{"print r = bool(null) or false", "False"},
		{"print r = true and true", "True"},
	} {
		checkFirstCell(t, tc.q, tc.want)
	}
}

// TestExtendItemsReadTheInputRow: an extend item cannot use a column an
// earlier item of the same extend adds; replaced columns keep their input
// value for the other items (the swap).
func TestExtendItemsReadTheInputRow(t *testing.T) {
	_, err := Run(context.Background(), "print x = 1 | extend a = x + 1, b = a * 2", Options{})
	if err == nil || !strings.Contains(err.Error(), "'a'") || !strings.Contains(err.Error(), "second extend") {
		t.Errorf("same-extend reference: %v", err)
	}
	checkFirstCell(t, "print x = 1 | extend a = x + 1 | extend b = a * 2 | project b", "4")
	checkFirstCell(t, "print a = 1, c = 3 | extend a = c, c = a | project r = strcat(a, '/', c)", "3/1")
	// a replaced column is read with its input value by a later item
	checkFirstCell(t, "print x = 1 | extend x = x + 10, y = x | project y", "1")
}
