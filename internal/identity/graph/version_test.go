package graph

import (
	"net/http"
	"strings"
	"testing"
)

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// A path in no version Steward serves answers 400 BadRequest naming what
// it serves: v1.0 and each served beta path; and each beta path the
// message names is served.
func TestUnservedVersionNamesWhatIsServed(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v2.0/users", "/beta/users", "/users", "/v1.0x/users", "/beta/identity/b2cUserFlowsX"} {
		m := e.must(e.admin, http.StatusBadRequest, "GET", path, nil)
		msg := errMessage(m)
		if errCode(m) != "BadRequest" || !strings.HasPrefix(msg, "Invalid version") {
			t.Errorf("GET %s: %v; want BadRequest, Invalid version", path, m)
		}
		if !strings.Contains(msg, "/"+Version+"/") {
			t.Errorf("GET %s: %q does not name /%s/", path, msg, Version)
		}
		for _, b := range betaPaths {
			if !strings.Contains(msg, "/beta/"+b) {
				t.Errorf("GET %s: %q does not name /beta/%s", path, msg, b)
			}
		}
	}
	for _, b := range betaPaths {
		if _, m := e.do(e.admin, http.MethodGet, "/beta/"+b, nil); strings.HasPrefix(errMessage(m), "Invalid version") {
			t.Errorf("GET /beta/%s, a path the message names as served: %v", b, m)
		}
	}
}
