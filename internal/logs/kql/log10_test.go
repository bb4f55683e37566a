package kql

import (
	"math"
	"testing"
)

// TestLog10Exact: the values of conformance case t1-type-casts-coercion-0020
// and the C library's (glibc's) log10 for a few more, exact powers of ten,
// subnormals, and agreement with math.Log10 to one unit in the last place
// elsewhere.
func TestLog10Exact(t *testing.T) {
	for x, want := range map[float64]float64{
		6.5: 0.8129133566428556, 1: 0, 1.1: 0.04139268515822507, 4.25: 0.6283889300503115,
		100001.5: 5.000006514368371, 10: 1, 100: 2, 1000: 3, 1e-5: -5, 1e22: 22, 0.001: -3,
		5e-324: -323.3062153431158, 1e-310: -310, 7.77: 0.8904210188009143, 12345.678: 4.091514945509202,
	} {
		if got := log10Exact(x); got != want {
			t.Errorf("log10(%v) = %v, want %v", x, got, want)
		}
	}
	for _, x := range []float64{1e-300, 3e-7, 0.7071, 0.5, 2, 3, 7.77, 12345.678, 1e300, math.MaxFloat64} {
		got, ref := log10Exact(x), math.Log10(x)
		if math.Abs(got-ref) > 2*math.Abs(math.Nextafter(ref, math.Inf(1))-ref) {
			t.Errorf("log10(%v) = %v, math.Log10 %v", x, got, ref)
		}
	}
	if !math.IsInf(log10Exact(0), -1) || !math.IsNaN(log10Exact(-1)) {
		t.Error("log10 of 0 or a negative number")
	}
}
