package cloud

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMetadataDocumentTakesTheShapeOfItsAPIVersion(t *testing.T) {
	h := MetadataHandler(MetadataOptions{ResourceManager: "https://localhost:8443/", Authority: "https://localhost:8443/", TenantID: "t1"})
	get := func(path string) (int, any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var v any
		_ = json.Unmarshal(rec.Body.Bytes(), &v)
		return rec.Code, v
	}
	login := func(doc any) any {
		m, _ := doc.(map[string]any)
		a, _ := m["authentication"].(map[string]any)
		return a["loginEndpoint"]
	}
	// Legacy (msrestazure, az 2.45): an object with the ADFS-shaped authority.
	code, doc := get("//metadata/endpoints?api-version=2015-01-01")
	if m, _ := doc.(map[string]any); code != 200 || login(doc) != "https://localhost:8443/adfs" || m["graphEndpoint"] != "https://graph.windows.net/" {
		t.Errorf("2015-01-01: %d %v", code, doc)
	}
	// 2019-05-01 to before 2022-09-01: a list of one cloud.
	code, doc = get("/metadata/endpoints?api-version=2020-06-01")
	list, _ := doc.([]any)
	if code != 200 || len(list) != 1 || login(list[0]) != "https://localhost:8443/" || list[0].(map[string]any)["name"] != "Steward" {
		t.Errorf("2020-06-01: %d %v", code, doc)
	}
	// 2022-09-01 and later: the cloud object.
	code, doc = get("/metadata/endpoints?api-version=2022-09-01")
	if m, _ := doc.(map[string]any); code != 200 || m["resourceManager"] != "https://localhost:8443/" || login(doc) != "https://localhost:8443/" {
		t.Errorf("2022-09-01: %d %v", code, doc)
	}
	for _, bad := range []string{"/metadata/endpoints", "/metadata/endpoints?api-version=yesterday"} {
		if code, _ := get(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

func TestIsMetadataPathAcceptsTheDoubleSlash(t *testing.T) {
	for p, want := range map[string]bool{"/metadata/endpoints": true, "//metadata/endpoints": true, "/METADATA/Endpoints": true,
		"/metadata/endpoints/x": false, "/metadata": false, "/subscriptions": false} {
		if got := IsMetadataPath(p); got != want {
			t.Errorf("IsMetadataPath(%q) = %v, want %v", p, got, want)
		}
	}
}
