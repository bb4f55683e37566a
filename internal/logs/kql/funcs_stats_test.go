package kql

import "testing"

// TestBetaAndWelch: the examples of beta-cdf-function, beta-pdf-function,
// beta-inv-function and welch-test-function.
func TestBetaAndWelch(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"round(beta_cdf(0.9, 10.0, 20.0), 15)", "0.999999999999959"},
		{"beta_cdf(1.5, 10.0, 20.0)", "NaN"},
		{"beta_cdf(-10.0, 10.0, 20.0)", "NaN"},
		{"beta_cdf(0.1, -1.0, 20.0)", "NaN"},
		{"beta_cdf(0.1, 10.0, 20000.0)", "NaN"},
		{"round(beta_pdf(0.5, 10.0, 20.0), 15)", "0.746176019310951"},
		{"beta_pdf(1.5, 10.0, 20.0)", "NaN"},
		{"beta_pdf(0.1, -1.0, 20.0)", "NaN"},
		{"round(beta_inv(0.1, 10.0, 20.0), 15)", "0.226415022388749"},
		{"isnull(beta_inv(1.5, 10.0, 20.0))", "True"},
		{"beta_inv(0.1, -1.0, 20.0)", "NaN"},
		{"round(beta_cdf(beta_inv(0.37, 2.5, 4.0), 2.5, 4.0), 12)", "0.37"},
		{"isnull(beta_cdf(real(null), 1.0, 1.0))", "True"},
	} {
		checkFirstCell(t, "print r = "+tc.expr, tc.want)
	}
	// welch-test-function: the Wikipedia samples, p = 0.021
	checkFirstCell(t, `print
    s1 = dynamic([27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]),
    s2 = dynamic([27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4])
| mv-expand s1 to typeof(double), s2 to typeof(double)
| summarize m1=avg(s1), v1=variance(s1), c1=count(), m2=avg(s2), v2=variance(s2), c2=count()
| project round(welch_test(m1,v1,c1,m2,v2,c2), 3)`, "0.021")
}

// TestBetaLargeParameters: past Γ's range the log path keeps the values
// finite and the distribution's symmetry holds; its accuracy there is
// about 1e-11 (log Γ of large arguments cancels), hence 10 decimals.
func TestBetaLargeParameters(t *testing.T) {
	checkFirstCell(t, "print r = round(beta_cdf(0.5, 5000.0, 5000.0), 10)", "0.5")
	checkFirstCell(t, "print r = round(beta_cdf(0.3, 200.0, 300.0) + beta_cdf(0.7, 300.0, 200.0), 12)", "1")
	checkFirstCell(t, "print r = isfinite(beta_pdf(0.4, 400.0, 600.0))", "True")
}
