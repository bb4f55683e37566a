package web

import "testing"

func TestSecurityInfoURL(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://localhost:8443/6c0b4f1e-0000-4000-8000-000000000001/v2.0":  "https://localhost:8443/6c0b4f1e-0000-4000-8000-000000000001/security-info",
		"https://localhost:8443/6c0b4f1e-0000-4000-8000-000000000001/v2.0/": "https://localhost:8443/6c0b4f1e-0000-4000-8000-000000000001/security-info",
		"https://sts.example/adfs":       "",
		"http://insecure.example/t/v2.0": "",
	} {
		if got := securityInfoURL(issuer); got != want {
			t.Errorf("securityInfoURL(%q) = %q, want %q", issuer, got, want)
		}
	}
}
