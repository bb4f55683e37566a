package server

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"
)

// pythonWithMSAL returns a Python interpreter that can import msal (Debian:
// python3-msal), or skips the test.
func pythonWithMSAL(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(py, "-c", "import msal, cryptography").Run(); err == nil {
			return py
		}
	}
	t.Skip("no python3 with the msal and cryptography modules (Debian: apt-get install python3-msal); skipping the MSAL for Python client test")
	return ""
}

// TestMSALPythonGetsValidTokens runs MSAL for Python, a second
// independent client, against a served Steward: a client secret, and a
// certificate assertion as MSAL Python 1.21 builds it (RS256 with x5t, with
// and without x5c).
func TestMSALPythonGetsValidTokens(t *testing.T) {
	py := pythonWithMSAL(t)
	s, _ := startSteward(t, t.TempDir())
	info := s.Bootstrap
	cmd := exec.Command(py, "testdata/msal_client.py", s.BaseURL, info.TenantID, info.ClientID, info.ClientSecret, info.CertificatePath)
	cmd.Env = append(cmd.Environ(), "REQUESTS_CA_BUNDLE="+s.CA.CACertPath)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("msal_client.py: %v\n%s", err, out)
	}
	var tokens map[string]string
	if err := json.Unmarshal(out, &tokens); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if tokens["error"] != "" {
		t.Fatal(tokens["error"])
	}
	v := s.Validator(ARMAudiences(s.BaseURL)...)
	for _, name := range []string{"secret", "certificate", "certificate_x5c"} {
		p, err := v.Validate(context.Background(), tokens[name])
		if err != nil {
			t.Errorf("%s: token does not validate: %v", name, err)
			continue
		}
		if p.AppID != info.ClientID || p.ObjectID != info.ObjectID {
			t.Errorf("%s: principal %+v", name, p)
		}
	}
}
