package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// TestLogsQueryBatch: POST /v1/$batch runs each query as the query API
// would and answers each with its own status; a batch that cannot be
// understood is a 400 as a whole.
func TestLogsQueryBatch(t *testing.T) {
	e := newLogsEnv(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/batch"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	ws := e.mustARM(t, "PUT", rg+"/providers/Microsoft.OperationalInsights/workspaces/b", "2022-10-01", map[string]any{"location": "eastus"})
	cid, _ := props(ws)["customerId"].(string)
	tok, err := e.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{LogAnalyticsAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, map[string]any) {
		return roundTripJSON(t, e.client.Transport, http.MethodPost, e.s.BaseURL+"v1/$batch", tok.Token, body)
	}
	item := func(id, ws, query string) string {
		return fmt.Sprintf(`{"id":%q,"workspace":%q,"method":"POST","path":"/query","headers":{"Prefer":"include-statistics=true"},"body":{"query":%q}}`, id, ws, query)
	}
	st, out := post(`{"requests":[` + item("1", cid, "print x = 1") + "," + item("2", cid, "print y = 2") + "," + item("3", cid, "this is not KQL") + `]}`)
	if st != http.StatusOK {
		t.Fatalf("batch: %d %v", st, out)
	}
	responses, _ := out["responses"].([]any)
	want := map[string]int{"1": 200, "2": 200, "3": 400}
	if len(responses) != 3 {
		t.Fatalf("responses: %v", out)
	}
	for _, r := range responses {
		m := r.(map[string]any)
		id, _ := m["id"].(string)
		if int(m["status"].(float64)) != want[id] {
			t.Errorf("response %s: %v", id, m)
		}
	}
	var many []string
	for i := range 11 {
		many = append(many, item(fmt.Sprint(i), cid, "print 1"))
	}
	for name, body := range map[string]string{
		"not JSON":          `{"requests":`,
		"no requests":       `{"requests":[]}`,
		"eleven":            `{"requests":[` + strings.Join(many, ",") + `]}`,
		"repeated id":       `{"requests":[` + item("1", cid, "print 1") + "," + item("1", cid, "print 2") + `]}`,
		"no workspace":      `{"requests":[` + item("1", "", "print 1") + `]}`,
		"another path":      `{"requests":[{"id":"1","workspace":"` + cid + `","path":"/metadata","body":{"query":"print 1"}}]}`,
		"no body":           `{"requests":[{"id":"1","workspace":"` + cid + `"}]}`,
		"another method":    `{"requests":[{"id":"1","workspace":"` + cid + `","method":"GET","body":{"query":"print 1"}}]}`,
		"workspace escapes": `{"requests":[` + item("1", "../x", "print 1") + `]}`,
	} {
		if st, out := post(body); st != http.StatusBadRequest {
			t.Errorf("%s: %d %v", name, st, out)
		}
	}
	if st, _ := post("{}"); st != http.StatusBadRequest {
		t.Errorf("empty object: %d", st)
	}
}
