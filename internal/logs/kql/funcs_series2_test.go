package kql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"strings"
	"testing"
)

// naiveDFT is the transform by its definition, in O(n²): the reference
// the fast transform is checked against.
func naiveDFT(x []complex128, inverse bool) []complex128 {
	n := len(x)
	sign := -1.0
	if inverse {
		sign = 1
	}
	out := make([]complex128, n)
	for k := range out {
		var s complex128
		for j, v := range x {
			s += v * cmplx.Rect(1, sign*2*math.Pi*float64((j*k)%n)/float64(n))
		}
		if inverse {
			s /= complex(float64(n), 0)
		}
		out[k] = s
	}
	return out
}

func TestFFTMatchesDefinitionForEveryLength(t *testing.T) {
	// powers of two (radix-2) and every other length (Bluestein), with
	// deterministic values that are not symmetric
	for n := 1; n <= 70; n++ {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(float64((i*7919)%31)-15, float64((i*104729)%17)/3)
		}
		for _, inverse := range []bool{false, true} {
			got := append([]complex128(nil), x...)
			fft(got, inverse)
			want := naiveDFT(x, inverse)
			for k := range want {
				if cmplx.Abs(got[k]-want[k]) > 1e-9*float64(n+1)*10 {
					t.Fatalf("n=%d inverse=%v: X[%d] = %v, want %v", n, inverse, k, got[k], want[k])
				}
			}
		}
	}
}

// sineQuery is the reference page's example: a complex series whose real
// part has period 8 and imaginary part period 32, over 128 points.
const sineQuery = `let sinewave=(x:double, period:double, gain:double=1.0, phase:double=0.0)
{
    gain*sin(2*pi()/period*(x+phase))
}
;
let n=128;      //  signal length
range x from 0 to n-1 step 1 | extend yr=sinewave(x, 8), yi=sinewave(x, 32)
| summarize x=make_list(x), y_real=make_list(yr), y_imag=make_list(yi)
| extend (fft_y_real, fft_y_imag) = series_fft(y_real, y_imag)`

func TestSeriesFFTDocumentedSineWaves(t *testing.T) {
	res := runQuery(t, sineQuery)
	re := nums(t, cell(t, res, "fft_y_real"))
	im := nums(t, cell(t, res, "fft_y_imag"))
	if len(re) != 128 || len(im) != 128 {
		t.Fatalf("lengths %d, %d, want 128", len(re), len(im))
	}
	// sin(2πx·16/128) puts ∓64i at bins 16 and 112; i·sin(2πx·4/128)
	// puts ±64 at bins 4 and 124; every other bin is 0
	wantRe := map[int]float64{4: 64, 124: -64}
	wantIm := map[int]float64{16: -64, 112: 64}
	for k := range re {
		if math.Abs(re[k]-wantRe[k]) > 1e-9 || math.Abs(im[k]-wantIm[k]) > 1e-9 {
			t.Fatalf("bin %d = %v%+vi, want %v%+vi", k, re[k], im[k], wantRe[k], wantIm[k])
		}
	}
}

func TestSeriesIFFTUndoesFFT(t *testing.T) {
	// the reference page's second example: the inverse transform gives the
	// original series back
	res := runQuery(t, sineQuery+`
| extend (y_real2, y_image2) = series_ifft(fft_y_real, fft_y_imag)`)
	for _, pair := range [][2]string{{"y_real", "y_real2"}, {"y_imag", "y_image2"}} {
		a, b := nums(t, cell(t, res, pair[0])), nums(t, cell(t, res, pair[1]))
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12 {
				t.Fatalf("%s[%d] = %v, want %v", pair[1], i, b[i], a[i])
			}
		}
	}
	// a length that is not a power of two, with only the real part given
	odd := runQuery(t, "print y=dynamic([3, 1, 4, 1, 5, 9, 2]) | extend (r, i)=series_fft(y) | extend (r2, i2)=series_ifft(r, i)")
	for k, want := range []float64{3, 1, 4, 1, 5, 9, 2} {
		if r2, i2 := nums(t, cell(t, odd, "r2")), nums(t, cell(t, odd, "i2")); math.Abs(r2[k]-want) > 1e-12 || math.Abs(i2[k]) > 1e-12 {
			t.Fatalf("round trip %v + %vi", r2, i2)
		}
	}
}

func TestSeriesFFTColumnsAndInvalidInput(t *testing.T) {
	res := runQuery(t, "print y=dynamic([1, 2, 3, 4]) | extend series_fft(y)")
	if got, want := colNames(res), "y,series_fft_y_real,series_fft_y_imag"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	if re := nums(t, cell(t, res, "series_fft_y_real")); re[0] != 10 || re[2] != -2 {
		t.Errorf("real %v, want 10 at 0 and -2 at 2", re)
	}
	for q, why := range map[string]string{
		"print y=dynamic({'a': 1}) | extend (r, i)=series_fft(y)":                   "not an array",
		"print y=dynamic([1, 2, 3]) | extend (r, i)=series_fft(y, dynamic([1, 2]))": "parts of different lengths",
		"print y=dynamic(null) | extend (r, i)=series_ifft(y)":                      "null",
	} {
		res := runQuery(t, q)
		if !cell(t, res, "r").IsNull() || !cell(t, res, "i").IsNull() {
			t.Errorf("%s: want null columns, got %s", why, cell(t, res, "r").Text())
		}
	}
	// an empty series transforms to empty series
	empty := runQuery(t, "print y=dynamic([]) | extend (r, i)=series_fft(y)")
	if r := nums(t, cell(t, empty, "r")); len(r) != 0 {
		t.Errorf("empty series: %v", r)
	}
	if _, err := Run(context.Background(), "print x=array_length(series_fft(dynamic([1, 2])))", Options{}); err == nil || !strings.Contains(err.Error(), "several columns") {
		t.Errorf("series_fft as a value: %v", err)
	}
}

func TestSeriesFFTIsGoverned(t *testing.T) {
	q := "range x from 1 to 200000 step 1 | summarize y=make_list(x, 1000000) | extend (r, i)=series_fft(y)"
	_, err := Run(context.Background(), q, Options{Limits: Limits{MaxMemory: 16 << 20}})
	var le *LimitError
	if !errors.As(err, &le) || le.Code != CodeRunaway || !strings.Contains(le.Msg, "series_fft") {
		t.Fatalf("a transform over the memory budget: %v, want %s naming series_fft", err, CodeRunaway)
	}
}

func TestSeriesPeriodsValidateDocumentedExample(t *testing.T) {
	q := `print y=dynamic([80, 139, 87, 110, 68, 54, 50, 51, 53, 133, 86, 141, 97, 156, 94, 149, 95, 140, 77, 61, 50, 54, 47, 133, 72, 152, 94, 148, 105, 162, 101, 160, 87, 63, 53, 55, 54, 151, 103, 189, 108, 183, 113, 175, 113, 178, 90, 71, 62, 62, 65, 165, 109, 181, 115, 182, 121, 178, 114, 170])
| project x=range(1, array_length(y), 1), y
| project series_periods_validate(y, 14.0, 10.0)`
	res := runQuery(t, q)
	if got, want := colNames(res), "series_periods_validate_y_periods,series_periods_validate_y_scores"; got != want {
		t.Fatalf("columns %s, want %s", got, want)
	}
	if got := strings.Join(strings.Fields(cell(t, res, "series_periods_validate_y_periods").Text()), ""); got != "[14.0,10.0]" {
		t.Errorf("periods %s, want [14.0,10.0]", got)
	}
	// the page: a high score (0.84) for the weekly period, 0 for five days
	s := nums(t, cell(t, res, "series_periods_validate_y_scores"))
	if s[0] < 0.8 || s[0] > 1 || s[1] != 0 {
		t.Errorf("scores %v, want a high score then 0", s)
	}
	// the same period scores as series_periods_detect scores it
	det := runQuery(t, strings.Replace(q, "project series_periods_validate(y, 14.0, 10.0)", "project (p, sc)=series_periods_detect(y, 4, 30, 1)", 1))
	if p, sc := nums(t, cell(t, det, "p")), nums(t, cell(t, det, "sc")); p[0] != 14 || !near(sc[0], s[0]) {
		t.Errorf("detect %v %v, validate %v", p, sc, s)
	}
}

// TestSeriesPeriodsDetectSearchesFromFourPoints: a period has at least 4
// points (the page's "Important" note), so a minimum below 4 searches
// from 4; the page's own example asks for a minimum of 0.
func TestSeriesPeriodsDetectSearchesFromFourPoints(t *testing.T) {
	for _, minP := range []string{"0", "1", "2", "3"} {
		r := runQuery(t, "print y=dynamic([1,2,1,2,1,2,1,2,1,2,1,2,1,2,1,2]) | project (p, s)=series_periods_detect(y, "+minP+", 8, 1)")
		if got := nums(t, cell(t, r, "p")); len(got) != 1 || (got[0] != 0 && got[0] < 4) {
			t.Errorf("min_period %s found periods %v: a period has at least 4 points", minP, got)
		}
	}
}

func TestSeriesPeriodsValidateBounds(t *testing.T) {
	y := seasonal(32) // period 4, 32 points
	for _, c := range []struct {
		periods string
		want    []float64
	}{
		{"4", []float64{1}},
		{"3, 17", []float64{0, 0}},         // below 4, above half the length
		{"4.0, 8, 16", []float64{1, 1, 1}}, // multiples repeat too
		{"6", []float64{0}},                // half a period out of phase
	} {
		res := runQuery(t, fmt.Sprintf("print y=%s | extend (p, s)=series_periods_validate(y, %s)", y, c.periods))
		s := nums(t, cell(t, res, "s"))
		for i := range c.want {
			if !near(s[i], c.want[i]) {
				t.Errorf("periods %s: scores %v, want %v", c.periods, s, c.want)
				break
			}
		}
	}
	many := strings.TrimSuffix(strings.Repeat("4, ", 17), ", ")
	if _, err := Run(context.Background(), "print y=dynamic([1,2,3]) | extend (p, s)=series_periods_validate(y, "+many+")", Options{}); err == nil {
		t.Error("17 periods: want an error (at most 16)")
	}
	if res := runQuery(t, "print y=dynamic([1,2,3,4,5,6,7,8]) | extend (p, s)=series_periods_validate(y, real(null))"); !cell(t, res, "s").IsNull() {
		t.Error("a null period: want null")
	}
}

func TestSeriesSeasonalDocumentedExamples(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		// the period is detected: six bins, five bins, too short (zeros)
		{"print s=dynamic([2, 5, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1]) | extend s_seasonal = series_seasonal(s)",
			"[1.0,2.0,3.0,4.0,3.0,2.0,1.0,2.0,3.0,4.0,3.0,2.0,1.0,2.0,3.0,4.0,3.0,2.0,1.0,2.0,3.0,4.0,3.0,2.0,1.0]"},
		{"print s=dynamic([8, 12, 14, 12, 10, 10, 12, 14, 12, 10, 10, 12, 14, 12, 10, 10, 12, 14, 12, 10]) | extend s_seasonal = series_seasonal(s)",
			"[10.0,12.0,14.0,12.0,10.0,10.0,12.0,14.0,12.0,10.0,10.0,12.0,14.0,12.0,10.0,10.0,12.0,14.0,12.0,10.0]"},
		{"print s=dynamic([1, 3, 5, 2, 4, 6, 1, 3, 5, 2, 4, 6]) | extend s_seasonal = series_seasonal(s)",
			"[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0]"},
		// a forced period
		{"print s=dynamic([1, 3, 5, 1, 3, 5, 2, 4, 6]) | extend s_seasonal = series_seasonal(s, 3)",
			"[1.0,3.0,5.0,1.0,3.0,5.0,1.0,3.0,5.0]"},
		{"print s=dynamic([1, 3, 5, 2, 4, 6, 1, 3, 5, 2, 4, 6]) | extend s_seasonal = series_seasonal(s, 3)",
			"[1.5,3.5,5.5,1.5,3.5,5.5,1.5,3.5,5.5,1.5,3.5,5.5]"},
		// 0: no seasonality
		{"print s=dynamic([1, 3, 5, 1, 3, 5, 1, 3, 5]) | extend s_seasonal = series_seasonal(s, 0)",
			"[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0]"},
	} {
		res := runQuery(t, c.q)
		if got := strings.Join(strings.Fields(cell(t, res, "s_seasonal").Text()), ""); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.q, got, c.want)
		}
	}
	for _, q := range []string{
		"print s=series_seasonal(dynamic([1, 2, 3]), -2)",
		"print s=series_seasonal(dynamic({'a': 1}))",
	} {
		if res := runQuery(t, q); !cell(t, res, "s").IsNull() {
			t.Errorf("%s: want null", q)
		}
	}
}

// BenchmarkFFT measures the transform of a power-of-two length (radix-2)
// and of a length just under it (Bluestein, through two transforms of
// 2048 points and one more).
func BenchmarkFFT(b *testing.B) {
	for _, n := range []int{1024, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			x := make([]complex128, n)
			for i := range x {
				x[i] = complex(float64(i%7), 0)
			}
			for b.Loop() {
				fft(x, false)
			}
		})
	}
}

func TestLagScoresThroughTheTransformMatchTheSums(t *testing.T) {
	// long enough to take the transform, with missing points
	xs := make([]float64, 3000)
	for i := range xs {
		xs[i] = math.Sin(float64(i)*2*math.Pi/24) + float64((i*7919)%13)/13
		if i%97 == 5 {
			xs[i] = math.NaN()
		}
	}
	mean, denom, _ := centred(xs)
	got := lagScores(xs, mean, denom, 1500)
	for p := range got {
		if want := lagScore(xs, mean, denom, p); math.Abs(got[p]-want) > 1e-9 {
			t.Fatalf("lag %d: %v, want %v", p, got[p], want)
		}
	}
}

// BenchmarkDetectPeriods measures period detection over 20,000 points with
// every period up to half the length a candidate (series_seasonal,
// series_decompose and series_periods_detect all do this).
func BenchmarkDetectPeriods(b *testing.B) {
	xs := make([]float64, 20000)
	for i := range xs {
		xs[i] = math.Sin(float64(i) * 2 * math.Pi / 168)
	}
	for b.Loop() {
		if ps, _ := detectPeriods(xs, 4, len(xs)/2, 1); len(ps) == 0 || ps[0] != 168 {
			b.Fatalf("periods %v, want 168", ps)
		}
	}
}
