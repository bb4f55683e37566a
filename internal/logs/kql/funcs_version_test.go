package kql

import "testing"

// TestParseVersion runs the parse-version-function page's examples.
func TestParseVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0.0.0.5", "5"},
		{"0.0.7.0", "700000000"},
		{"0.0.3", "300000000"},
		{"0.2", "20000000000000000"},
		{"0.1.2.0", "10000000200000000"},
		{"1.2.3.4", "1000000020000000300000004"},
		{"1", "1000000000000000000000000"},
		{"99999999.0.0.0", "99999999000000000000000000000000"},
		{"0", "0"},
		// invalid: too many parts, too many digits, empty parts, signs, letters
		{"1.2.3.4.5", "null"},
		{"123456789", "null"},
		{"1..2", "null"},
		{"", "null"},
		{"-1", "null"},
		{"1.a", "null"},
	} {
		res := runQuery(t, "print v=parse_version('"+tc.in+"')")
		if got := res.Rows[0][0].Text(); got != tc.want {
			t.Errorf("parse_version(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if tc.want != "null" && res.Columns[0].Type != TypeDecimal {
			t.Errorf("parse_version(%q) is %s", tc.in, res.Columns[0].Type)
		}
	}
	// the page's comparison example
	res := runQuery(t, `let dt = datatable(lab: string, v: string)
[
    "Lab A", "0.0.0.5",
    "Lab B", "0.0.7.0",
    "Lab D","0.0.3",
    "Lab C", "0.2",
    "Lab G", "0.1.2.0",
    "Lab F", "1.2.3.4",
    "Lab E", "1",
];
dt
| extend parsed_version = parse_version(v)
| extend needs_update = iff(parsed_version < parse_version("1.0.0.0"), "Yes", "No")
| project lab, v, needs_update
| sort by lab asc , v, needs_update`)
	if got := joinColumn(res, 2); got != "Yes,Yes,Yes,Yes,No,No,Yes" {
		t.Errorf("needs_update: %s", got)
	}
	// versions that differ only in their last part: beyond a float64's
	// precision, still ordered, distinct and grouped apart
	res = runQuery(t, `datatable(v:string)["1.2.3.5", "1.2.3.4", "1.2.3.4"]
| summarize n=count() by p=parse_version(v)
| order by p asc`)
	if got := joinColumn(res, 0) + "/" + joinColumn(res, 1); got != "1000000020000000300000004,1000000020000000300000005/2,1" {
		t.Errorf("grouped versions: %s", got)
	}
	res = runQuery(t, `print a = parse_version("1.2.3.5") > parse_version("1.2.3.4"), b = parse_version("1.2.3.4") == parse_version("1.2.3.4"), c = parse_version("1.2.3.4") == parse_version("1.2.3.5"), d = tostring(parse_version("1.2.3.4")), e = parse_version("0.0.1.0") == 100000000`)
	if got := rowText(res.Rows[0]); got != "True,True,False,1000000020000000300000004,True" {
		t.Errorf("comparisons: %s", got)
	}
}

func rowText(r Row) string {
	s := ""
	for i, v := range r {
		if i > 0 {
			s += ","
		}
		s += v.Plain()
	}
	return s
}

// TestParseVersionArithmetic: arithmetic on versions keeps their digits.
func TestParseVersionArithmetic(t *testing.T) {
	res := runQuery(t, `print d = parse_version("1.2.3.5") - parse_version("1.2.3.4"), s = parse_version("1.2.3.4") + 1, n = parse_version("0.0.0.1") - parse_version("1.0.0.0"), r = decimal(10) / 3`)
	if got := rowText(res.Rows[0]); got != "1,1000000020000000300000005,-999999999999999999999999,3.3333333333333335" {
		t.Errorf("version arithmetic: %s", got)
	}
}
