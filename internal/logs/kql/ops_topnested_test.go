package kql

import "testing"

func TestTopNestedWithOthers(t *testing.T) {
	const data = "datatable(State:string, Source:string, Loc:string, Lat:long)[" +
		"'A','x','p',5, 'A','x','q',1, 'A','y','p',2, 'B','x','r',4, 'B','z','r',1, 'B','z','s',1, 'C','x','t',3, 'D','y','u',1]"
	for _, tc := range []struct{ q, rows string }{
		// the shape of the documented StormEvents example: a clause
		// without others leaves the others records' cells null
		{data + " | top-nested 2 of State with others='Other' by sum(Lat), top-nested 1 of Source by sum(Lat)," +
			" top-nested 1 of Loc with others='OtherLoc' by sum(Lat)",
			"'A'|8|'x'|6|'p'|5;'B'|6|'x'|4|'r'|4;" + // full records
				"'A'|8|'x'|6|'OtherLoc'|1;" + // others inside A/x
				"'A'|8|''|null|'OtherLoc'|2;'B'|6|''|null|'OtherLoc'|2;" + // others of Source, in A and B
				"'Other'|4|''|null|'OtherLoc'|4"}, // the states beyond the top 2
		// others on the only clause: one extra record
		{data + " | top-nested 1 of State with others = 'rest' by count()", "'A'|3;'rest'|5"},
		// no leftover rows: no others record
		{data + " | top-nested of State with others = 'rest' by count() | sort by State asc", "'A'|3;'B'|3;'C'|1;'D'|1"},
		// a numeric key takes a numeric others value
		{data + " | top-nested 1 of Lat with others = -1 by n = count()", "1|4;-1|4"},
		// asc picks the smallest aggregates
		{data + " | top-nested 2 of State by sum(Lat) asc", "'D'|1;'C'|3"},
	} {
		checkRowsCases(t, []rowsCase{{q: tc.q, rows: tc.rows}})
	}
}

func TestTopNestedErrors(t *testing.T) {
	expectErrors(t, []string{
		"datatable(s:string, v:long)['a',1] | top-nested 1 of s with others = 1 by sum(v)",         // others of another type
		"datatable(s:string, v:long)['a',1] | top-nested -1 of s by sum(v)",                        // negative count
		"datatable(s:string, v:long)['a',1] | top-nested 1 of s with others = strcat(s) by sum(v)", // not a constant
		"datatable(s:string, v:long)['a',1] | top-nested 1 of s by v",                              // not an aggregate
	})
}
