package kql

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func runQuery(t *testing.T, q string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, q, Options{})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func colNames(res *Result) string {
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

// cell returns row 0's value of the named column.
func cell(t *testing.T, res *Result, name string) Value {
	t.Helper()
	for i, c := range res.Columns {
		if c.Name == name {
			return res.Rows[0][i]
		}
	}
	t.Fatalf("no column %s in %s", name, colNames(res))
	return Value{}
}

func nums(t *testing.T, v Value) []float64 {
	t.Helper()
	a, ok := seriesNums(v)
	if !ok {
		t.Fatalf("not an array: %s", v.Text())
	}
	out := make([]float64, len(a))
	for i, x := range a {
		if x == nil {
			out[i] = math.NaN()
			continue
		}
		out[i] = scalarOf(Dynamic(x)).AsReal()
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSeveralColumnNaming(t *testing.T) {
	const y = "print y=dynamic([1, 2, 3, 4, 5, 10, 8, 6, 4, 2])"
	all := runQuery(t, y+" | project series_fit_2lines(y)")
	want := "series_fit_2lines_y_rsquare,series_fit_2lines_y_split_idx,series_fit_2lines_y_variance,series_fit_2lines_y_rvariance,series_fit_2lines_y_line_fit," +
		"series_fit_2lines_y_right_rsquare,series_fit_2lines_y_right_slope,series_fit_2lines_y_right_interception,series_fit_2lines_y_right_variance,series_fit_2lines_y_right_rvariance," +
		"series_fit_2lines_y_left_rsquare,series_fit_2lines_y_left_slope,series_fit_2lines_y_left_interception,series_fit_2lines_y_left_variance,series_fit_2lines_y_left_rvariance"
	if got := colNames(all); got != want {
		t.Errorf("project: columns\n%s\nwant\n%s", got, want)
	}
	// project with a name list keeps the rest under generated names
	p := runQuery(t, y+" | project (rs, si, v)=series_fit_2lines(y)")
	if got := colNames(p); !strings.HasPrefix(got, "rs,si,v,series_fit_2lines_y_rvariance,") || len(p.Columns) != 15 {
		t.Errorf("project with names: %s", got)
	}
	// extend with a name list adds only the named columns
	e := runQuery(t, y+" | extend (rs, si, v)=series_fit_2lines(y)")
	if got := colNames(e); got != "y,rs,si,v" {
		t.Errorf("extend with names: %s", got)
	}
	// a single name takes the first column
	one := runQuery(t, y+" | extend st=series_stats(y)")
	if got := colNames(one); got != "y,st" || cell(t, one, "st").AsReal() != 1 {
		t.Errorf("extend st=series_stats(y): %s = %s", got, cell(t, one, "st").Text())
	}
	if got := cell(t, e, "si"); got.T != TypeLong || got.i != 5 {
		t.Errorf("split_idx = %s (%s), want 5 (long)", got.Text(), got.T)
	}
}

func TestSeveralColumnErrors(t *testing.T) {
	for q, want := range map[string]string{
		"print y=dynamic([1,2,3]) | extend x=array_length(series_stats(y))":             "returns several columns",
		"print y=dynamic([1,2,3]) | extend (a, b)=strlen('x')":                          "needs a function that returns several columns",
		"print y=dynamic([1,2,3]) | extend (a, b, c)=series_periods_detect(y, 2, 3, 1)": "returns 2 columns, 3 names given",
		"print y=dynamic([1,2,3]) | where series_stats(y) > 1":                          "returns several columns",
	} {
		_, err := Run(context.Background(), q, Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
	}
}

func TestSeriesFit2Lines(t *testing.T) {
	// 1..5 rising by 1, then 10 falling by 2: the break is at index 5
	res := runQuery(t, "print y=dynamic([1, 2, 3, 4, 5, 10, 8, 6, 4, 2]) | extend (rs, si, v, rv, fit, rr, rslope, ricept, rvar, rrvar, lr, lslope, licept)=series_fit_2lines(y)")
	if rs := cell(t, res, "rs").AsReal(); !near(rs, 1) {
		t.Errorf("rsquare %v, want 1", rs)
	}
	if ls, rsl := cell(t, res, "lslope").AsReal(), cell(t, res, "rslope").AsReal(); !near(ls, 1) || !near(rsl, -2) {
		t.Errorf("slopes %v, %v; want 1, -2", ls, rsl)
	}
	// x counts from 1 over the whole series: the right line is y = -2x + 22
	if ri := cell(t, res, "ricept").AsReal(); !near(ri, 22) {
		t.Errorf("right interception %v, want 22", ri)
	}
	fit := nums(t, cell(t, res, "fit"))
	for i, want := range []float64{1, 2, 3, 4, 5, 10, 8, 6, 4, 2} {
		if !near(fit[i], want) {
			t.Fatalf("line_fit %v", fit)
		}
	}
	dyn := runQuery(t, "print y=dynamic([1, 2, 3, 4, 5, 10, 8, 6, 4, 2]) | project s=tolong(series_fit_2lines_dynamic(y).split_idx), l=todouble(series_fit_2lines_dynamic(y).left.slope)")
	if cell(t, dyn, "s").i != 5 || !near(cell(t, dyn, "l").AsReal(), 1) {
		t.Errorf("series_fit_2lines_dynamic: %v", dyn.Rows[0])
	}
	short := runQuery(t, "print y=dynamic([1, 2, 3]) | extend (rs)=series_fit_2lines(y)")
	if !cell(t, short, "rs").IsNull() {
		t.Errorf("three points: rsquare %s, want null", cell(t, short, "rs").Text())
	}
}

func TestSeriesOutliers(t *testing.T) {
	// 21 points 0..20 plus a spike of 100 and a dip of -50; ctukey's fences
	// are the 10th and 90th percentiles
	res := runQuery(t, "print s=dynamic([0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,100,-50]) | extend o=series_outliers(s), t=series_outliers(s, 'tukey')")
	o := nums(t, cell(t, res, "o"))
	if o[10] != 0 || o[21] <= 1.5 || o[22] >= -1.5 {
		t.Errorf("ctukey scores %v: the middle should be 0, the spike > 1.5, the dip < -1.5", o)
	}
	tk := nums(t, cell(t, res, "t"))
	if tk[21] <= o[21] {
		t.Errorf("tukey's narrower range should score the spike higher: %v vs %v", tk[21], o[21])
	}
	bad, err := Run(context.Background(), "print s=dynamic([1,2,3]) | extend o=series_outliers(s, 'ctukey', double(null), 1, 99)", Options{})
	if err != nil || !cell(t, bad, "o").IsNull() {
		t.Errorf("percentiles outside [2, 98] should give null, got %v %v", bad, err)
	}
}

// seasonal builds n points of a period-4 pattern.
func seasonal(n int) string {
	pat := []string{"10", "20", "15", "5"}
	var b strings.Builder
	b.WriteString("dynamic([")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(pat[i%4])
	}
	b.WriteString("])")
	return b.String()
}

func TestSeriesDecompose(t *testing.T) {
	// a period-4 pattern repeated 8 times: the seasonal component is the
	// pattern's median per phase, the trend (avg) the mean of the rest, and
	// the residual 0
	res := runQuery(t, "print y="+seasonal(32)+" | extend series_decompose(y, 4)")
	want := "y,series_decompose_y_baseline,series_decompose_y_seasonal,series_decompose_y_trend,series_decompose_y_residual"
	if got := colNames(res); got != want {
		t.Fatalf("columns %s, want %s", got, want)
	}
	seas := nums(t, cell(t, res, "series_decompose_y_seasonal"))
	resid := nums(t, cell(t, res, "series_decompose_y_residual"))
	for i := range seas {
		if !near(resid[i], 0) {
			t.Fatalf("residual %v, want zeros", resid)
		}
	}
	if seas[1] != 20 || seas[5] != 20 {
		t.Errorf("seasonal %v", seas)
	}
	// the period is found on its own (-1, the default)
	auto := runQuery(t, "print y="+seasonal(32)+" | extend (b, s, tr, r)=series_decompose(y)")
	if s := nums(t, cell(t, auto, "s")); s[1] != 20 {
		t.Errorf("autodetected seasonal %v", s)
	}
	per := runQuery(t, "print y="+seasonal(32)+" | extend (p, s)=series_periods_detect(y, 2, 10, 2)")
	if p := nums(t, cell(t, per, "p")); len(p) == 0 || p[0] != 4 {
		t.Errorf("periods %v, want 4 first", p)
	}
	// linefit recovers a straight line exactly
	line := runQuery(t, "print y=dynamic([3, 5, 7, 9, 11, 13, 15, 17]) | extend (b, s, tr, r)=series_decompose(y, 0, 'linefit')")
	if tr := nums(t, cell(t, line, "tr")); !near(tr[0], 3) || !near(tr[7], 17) {
		t.Errorf("linefit trend %v", tr)
	}
	if bad, err := Run(context.Background(), "print y=dynamic([1,2,3,4]) | extend (b)=series_decompose(y, 0, 'sideways')", Options{}); err != nil || !cell(t, bad, "b").IsNull() {
		t.Errorf("an unknown trend should give null, got %v %v", bad, err)
	}
}

func TestSeriesDecomposeAnomaliesAndForecast(t *testing.T) {
	series := "dynamic([10,20,15,5, 10,20,15,5, 10,20,15,5, 10,60,15,5, 10,20,15,5, 10,20,-30,5, 10,20,15,5, 10,20,15,5])"
	res := runQuery(t, "print y="+series+" | extend series_decompose_anomalies(y, 1.5, 4)")
	flags := nums(t, cell(t, res, "series_decompose_anomalies_y_ad_flag"))
	for i, f := range flags {
		want := 0.0
		switch i {
		case 13:
			want = 1
		case 22:
			want = -1
		}
		if f != want {
			t.Fatalf("ad_flag %v: want +1 at 13, -1 at 22, 0 elsewhere", flags)
		}
	}
	// forecast the last 8 points of a seasonal series from the first 24
	fc := runQuery(t, "print y=dynamic([10,20,15,5, 10,20,15,5, 10,20,15,5, 10,20,15,5, 10,20,15,5, 10,20,15,5, 0,0,0,0, 0,0,0,0]) | extend f=series_decompose_forecast(y, 8, 4)")
	// seasonal = the pattern's values per phase; trend (avg) = the mean of
	// the deseasonalised training points, 0; the forecast repeats the pattern
	f := nums(t, cell(t, fc, "f"))
	for i, want := range []float64{10, 20, 15, 5, 10, 20, 15, 5} {
		if !near(f[24+i], want) {
			t.Fatalf("forecast %v, want the pattern repeated over the last 8 points", f[24:])
		}
	}
}

func TestSeriesElementwiseMath(t *testing.T) {
	res := runQuery(t, "print a=series_abs(dynamic([-1, 2, null])), s=series_sign(dynamic([-3, 0, 4])), c=series_ceiling(dynamic([1.2]))")
	if got := cell(t, res, "a").Text(); !strings.Contains(strings.Join(strings.Fields(got), ""), "[1.0,2.0,null]") {
		t.Errorf("series_abs: %s", got)
	}
	if s := nums(t, cell(t, res, "s")); s[0] != -1 || s[1] != 0 || s[2] != 1 {
		t.Errorf("series_sign: %v", s)
	}
	if c := nums(t, cell(t, res, "c")); c[0] != 2 {
		t.Errorf("series_ceiling: %v", c)
	}
}

func TestNameListRoundTrip(t *testing.T) {
	q, err := Parse("T | extend (a, ['b c'])=series_fit_line(y)")
	if err != nil {
		t.Fatal(err)
	}
	if got := q.String(); !strings.Contains(got, "(a, ['b c']) = series_fit_line(y)") {
		t.Errorf("String: %s", got)
	}
	// a parenthesised expression is still an expression
	res := runQuery(t, "print x=1 | extend (x + 1) * 2")
	if len(res.Columns) != 2 {
		t.Errorf("columns %s", colNames(res))
	}
}

// TestSeriesDecomposeAnomaliesDocumentedExample replays the documentation's
// weekly-seasonality example with deterministic noise in place of rand():
// the period (168 hours) is detected and exactly the six inserted outliers
// are flagged, spikes up and dips down.
func TestSeriesDecomposeAnomaliesDocumentedExample(t *testing.T) {
	q := `let ts=range t from 1 to 24*7*5 step 1
| extend Timestamp = datetime(2018-03-01 05:00) + 1h * t
| extend y = 2*((t*7919)%101)/101.0 + iff((t/24)%7>=5, 10.0, 15.0) - (((t%24)/10)*((t%24)/10))
| extend y=iff(t==150 or t==200 or t==780, y-8.0, y)
| extend y=iff(t==300 or t==400 or t==600, y+8.0, y)
| summarize Timestamp=make_list(Timestamp, 10000),y=make_list(y, 10000);
ts
| extend series_decompose_anomalies(y)
| extend (periods, scores) = series_periods_detect(y, 4, 400, 2)
| mv-expand with_itemindex=i flag=series_decompose_anomalies_y_ad_flag to typeof(long)
| where flag != 0
| project i, flag, period=tolong(periods[0])`
	res := runQuery(t, q)
	want := map[int64]int64{149: -1, 199: -1, 779: -1, 299: 1, 399: 1, 599: 1}
	if len(res.Rows) != len(want) {
		t.Errorf("%d anomalies, want %d", len(res.Rows), len(want))
	}
	for _, r := range res.Rows {
		if want[r[0].i] != r[1].i || r[2].i != 168 {
			t.Errorf("anomaly at %d flag %d period %d; want %v and period 168", r[0].i, r[1].i, r[2].i, want)
		}
	}
}
