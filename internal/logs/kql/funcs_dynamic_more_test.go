package kql

import (
	"context"
	"testing"
)

// TestDynamicAndMathAdditions runs the Kusto reference's examples of
// array_shift_left/right, bag_set_key, pack_all and the math functions
// degrees, radians, cot, gamma, loggamma, erf, erfc.
func TestDynamicAndMathAdditions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// array-shift-left-function, array-shift-right-function
		{"tostring(array_shift_left(dynamic([1,2,3,4,5]), 2))", "[3,4,5,null,null]"},
		{"tostring(array_shift_left(dynamic([1,2,3,4,5]), 2, -1))", "[3,4,5,-1,-1]"},
		{"tostring(array_shift_left(dynamic([1,2,3,4,5]), -2, -1))", "[-1,-1,1,2,3]"},
		{"tostring(array_shift_right(dynamic([1,2,3,4,5]), 2))", "[null,null,1,2,3]"},
		{"tostring(array_shift_right(dynamic([1,2,3,4,5]), 2, -1))", "[-1,-1,1,2,3]"},
		{"tostring(array_shift_right(dynamic([1,2,3,4,5]), -2, -1))", "[3,4,5,-1,-1]"},
		{"tostring(array_shift_left(dynamic(['a','b']), 1))", `["b",""]`},
		{"tostring(array_shift_left(dynamic([1,2]), 7))", "[null,null]"},
		{"isnull(array_shift_left(dynamic({'a':1}), 1))", "True"},
		// bag-set-key-function
		{"tostring(bag_set_key(dynamic({'key1': 1, 'key2': 2}), 'key3', 3))", `{"key1":1,"key2":2,"key3":3}`},
		{"tostring(bag_set_key(dynamic({'key1': 1, 'key3': 'abc'}), 'key3', 3))", `{"key1":1,"key3":3}`},
		{"tostring(bag_set_key(dynamic({'key1': 123, 'key2': {'prop1': 123, 'prop2': 'xyz'}}), '$.key2.prop1', 'abc'))", `{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"}}`},
		{"tostring(bag_set_key(dynamic({'key1': 123}), '$.key2.prop1', 'abc'))", `{"key1":123,"key2":{"prop1":"abc"}}`},
		{"isnull(bag_set_key(dynamic([1]), 'k', 1))", "True"},
		{"isnull(bag_set_key(dynamic({}), '$.a[0]', 1))", "True"},
		// degrees-function, radians-function, cot-function, gamma-function
		{"degrees(pi()/4)", "45"},
		{"degrees(pi()*1.5)", "270"},
		{"round(radians(90), 13)", "1.5707963267949"},
		{"round(radians(180), 14)", "3.14159265358979"},
		{"round(cot(1), 15)", "0.642092615934331"},
		{"gamma(5)", "24"},
		{"round(loggamma(5), 12)", "3.178053830348"},
		// erf-function, erfc-function
		{"round(erf(-1), 15)", "-0.842700792949715"},
		{"round(erf(3), 15)", "0.999977909503001"},
		{"round(erfc(-3), 14)", "1.999977909503"},
		{"round(erfc(2), 17)", "0.00467773498104727"},
		{"erf(real(null))", "null"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0].Plain(); got != tc.want && res.Rows[0][0].Text() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
	// pack-all-function: the page's table
	res := runQuery(t, `datatable(Source:string,Target:string,CharsCount:long)
[
'555-1234','555-1212',46,
'555-1234','555-1213',50,
'555-1313','',42,
'','555-3456',74
]
| extend Packed=pack_all(), PackedIgnoreNullEmpty=pack_all(true)
| project p = tostring(Packed), q = tostring(PackedIgnoreNullEmpty)`)
	want := [][2]string{
		{`{"Source":"555-1234","Target":"555-1212","CharsCount":46}`, `{"Source":"555-1234","Target":"555-1212","CharsCount":46}`},
		{`{"Source":"555-1234","Target":"555-1213","CharsCount":50}`, `{"Source":"555-1234","Target":"555-1213","CharsCount":50}`},
		{`{"Source":"555-1313","Target":"","CharsCount":42}`, `{"Source":"555-1313","CharsCount":42}`},
		{`{"Source":"","Target":"555-3456","CharsCount":74}`, `{"Target":"555-3456","CharsCount":74}`},
	}
	for i, w := range want {
		if got := [2]string{res.Rows[i][0].Plain(), res.Rows[i][1].Plain()}; got != w {
			t.Errorf("pack_all row %d: %v, want %v", i, got, w)
		}
	}
	for _, q := range []string{"print pack_all(1, 2)", "print x=1 | extend pack_all(x > 0)", "print degrees('a')"} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestBagPackColumns runs bag-pack-columns-function's example.
func TestBagPackColumns(t *testing.T) {
	res := runQuery(t, `datatable(Id: string, Value: string, Other: long)
[
    "A", "val_a", 1,
    "B", "val_b", 2,
    "C", "val_c", 3
]
| extend Packed = bag_pack_columns(Id, Value)
| project p = tostring(Packed)`)
	if got := joinColumn(res, 0); got != `{"Id":"A","Value":"val_a"},{"Id":"B","Value":"val_b"},{"Id":"C","Value":"val_c"}` {
		t.Errorf("bag_pack_columns: %s", got)
	}
	for _, q := range []string{"print bag_pack_columns()", "print x=1 | extend bag_pack_columns(x + 1)", "print x=1 | extend bag_pack_columns(y)"} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}
