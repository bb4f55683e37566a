package kql

import (
	"math"
	"strconv"
	"testing"
)

// TestSeriesFitPoly: an exact cubic is recovered; degree 1 is
// series_fit_line's line (the reference's second example); the columns and
// their names; bad degrees and lengths.
func TestSeriesFitPoly(t *testing.T) {
	// y = 2x³ - x + 5 at x = -2..3
	res := runQuery(t, `print x = dynamic([-2, -1, 0, 1, 2, 3]), y = dynamic([-9, 4, 5, 6, 19, 56])
| extend series_fit_poly(y, x, 3)`)
	if got := colNames(res); got != "x,y,series_fit_poly_y_rsquare,series_fit_poly_y_coefficients,series_fit_poly_y_variance,series_fit_poly_y_rvariance,series_fit_poly_y_poly_fit" {
		t.Fatalf("columns: %s", got)
	}
	coeffs, _ := res.Rows[0][3].AsDynamic().([]any)
	want := []float64{2, 0, -1, 5}
	for i, w := range want {
		if len(coeffs) != 4 || math.Abs(coeffs[i].(float64)-w) > 1e-9 {
			t.Fatalf("coefficients %v, want %v", coeffs, want)
		}
	}
	if r := res.Rows[0][2].AsReal(); math.Abs(r-1) > 1e-12 {
		t.Errorf("rsquare %v", r)
	}
	// degree 1 without x is series_fit_line
	res = runQuery(t, `print y = dynamic([2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30])
| extend series_fit_poly(y), series_fit_line(y)
| project p = series_fit_poly_y_coefficients, lr = series_fit_line_y_rsquare, pr = series_fit_poly_y_rsquare,
    lv = series_fit_line_y_rvariance, pv = series_fit_poly_y_rvariance, ls = series_fit_line_y_slope, li = series_fit_line_y_interception`)
	r := res.Rows[0]
	p, _ := r[0].AsDynamic().([]any)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if len(p) != 2 || !near(p[0].(float64), r[5].AsReal()) || !near(p[1].(float64), r[6].AsReal()) ||
		!near(r[2].AsReal(), r[1].AsReal()) || !near(r[4].AsReal(), r[3].AsReal()) {
		t.Errorf("degree 1 differs from series_fit_line: %v", rowText(r))
	}
	// a degree below 1, not below the point count or over the bound, and
	// an x of another length, give nulls
	for _, args := range []string{"dynamic(null), 0", "dynamic(null), 6", "dynamic(null), 17", "dynamic([1, 2]), 1"} {
		checkFirstCell(t, "print y = dynamic([1, 2, 4, 8, 16, 32]) | extend (r) = series_fit_poly(y, "+args+") | project isnull(r)", "True")
	}
	checkFirstCell(t, "print y = dynamic([1, 2, 4, 8, 16, 32]) | extend (r) = series_fit_poly(y, dynamic(null), 5) | project round(r, 9)", strconv.Itoa(1))
}
