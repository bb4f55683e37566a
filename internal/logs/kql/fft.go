package kql

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fft transforms x in place: X[k] = sum_j x[j]·exp(-2πi·jk/n), or with
// inverse the conjugate transform divided by n, so that an inverse
// transform undoes a forward one. Any length is served in O(n log n): a
// power of two by iterative radix-2, any other length by Bluestein's chirp
// z-transform, which turns the transform into a convolution computed with
// power-of-two transforms of at least 2n-1 points.
func fft(x []complex128, inverse bool) {
	n := len(x)
	if n <= 1 {
		return
	}
	if inverse {
		for i := range x {
			x[i] = cmplx.Conj(x[i])
		}
	}
	if n&(n-1) == 0 {
		radix2(x)
	} else {
		bluestein(x)
	}
	if inverse {
		for i := range x {
			x[i] = cmplx.Conj(x[i]) / complex(float64(n), 0)
		}
	}
}

// fftWork is the number of complex values fft allocates for n points,
// what the governor is told before a transform.
func fftWork(n int) int64 {
	if n&(n-1) == 0 {
		return 0
	}
	return 3 * int64(1<<bits.Len(uint(2*n-2)))
}

// radix2 is the forward transform of a power-of-two length.
func radix2(x []complex128) {
	n := len(x)
	shift := 64 - bits.Len(uint(n-1))
	for i := range x {
		if j := int(bits.Reverse64(uint64(i)) >> shift); j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		step := -2 * math.Pi / float64(size)
		for k := 0; k < half; k++ {
			// the twiddle of each k is computed directly, not by repeated
			// multiplication, so the error does not grow with n
			w := cmplx.Rect(1, step*float64(k))
			if 4*k == size {
				// a quarter turn is exactly -i (cos(π/2) is not exactly
				// 0 in floating point)
				w = -1i
			}
			for start := 0; start < n; start += size {
				a, b := x[start+k], x[start+k+half]*w
				x[start+k], x[start+k+half] = a+b, a-b
			}
		}
	}
}

// bluestein is the forward transform of any length, through
// jk = (j² + k² - (k-j)²)/2.
func bluestein(x []complex128) {
	n := len(x)
	m := 1 << bits.Len(uint(2*n-2))
	// chirp[j] = exp(-πi·j²/n), with j² taken modulo 2n so the angle
	// stays small and exact for long series
	chirp := make([]complex128, n)
	for j := range chirp {
		sq := (uint64(j) * uint64(j)) % uint64(2*n)
		chirp[j] = cmplx.Rect(1, -math.Pi*float64(sq)/float64(n))
	}
	a := make([]complex128, m)
	b := make([]complex128, m)
	for j := 0; j < n; j++ {
		a[j] = x[j] * chirp[j]
	}
	b[0] = cmplx.Conj(chirp[0])
	for j := 1; j < n; j++ {
		b[j] = cmplx.Conj(chirp[j])
		b[m-j] = b[j]
	}
	radix2(a)
	radix2(b)
	for i := range a {
		a[i] *= b[i]
	}
	// inverse of the convolution's transform: conjugate, forward, conjugate
	for i := range a {
		a[i] = cmplx.Conj(a[i])
	}
	radix2(a)
	for k := 0; k < n; k++ {
		x[k] = cmplx.Conj(a[k]) / complex(float64(m), 0) * chirp[k]
	}
}

// lagScores returns lagScore(xs, mean, denom, p) for every lag p from 0 to
// top (top < len(xs)). Few lags are summed directly; many go through the
// transform, in O(n log n) rather than O(n·top): the sums of products at
// every lag are the inverse transform of the power spectrum of the
// centred series, zero-padded so no lag wraps around. A missing point
// (NaN) is 0 once centred, which leaves out its pairs exactly as
// lagScore does.
func lagScores(xs []float64, mean, denom float64, top int) []float64 {
	n := len(xs)
	out := make([]float64, top+1)
	if int64(n)*int64(top) <= 1<<15 {
		for p := range out {
			out[p] = lagScore(xs, mean, denom, p)
		}
		return out
	}
	c := make([]complex128, 1<<bits.Len(uint(n+top-1)))
	for i, x := range xs {
		if !math.IsNaN(x) {
			c[i] = complex(x-mean, 0)
		}
	}
	fft(c, false)
	for i, v := range c {
		c[i] = complex(real(v)*real(v)+imag(v)*imag(v), 0)
	}
	fft(c, true)
	for p := range out {
		out[p] = real(c[p]) / denom * float64(n) / float64(n-p)
	}
	return out
}
