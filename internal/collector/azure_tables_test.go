package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

// TestWorkspaceVerifierWantsOneTable: the count is read from the one table
// the count query returns; an answer with several tables is an error.
func TestWorkspaceVerifierWantsOneTable(t *testing.T) {
	table := `{"name":"PrimaryResult","columns":[{"name":"Count","type":"long"}],"rows":[[3]]}`
	body := `{"tables":[` + table + `]}`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	opts := query.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client(),
		Cloud: azcloud.Configuration{Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			query.ServiceName: {Endpoint: srv.URL + "/v1", Audience: "https://api.loganalytics.io"}}}}}
	verify, err := WorkspaceVerifier(staticToken{}, opts, "/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := verify(context.Background(), "b1"); err != nil || n != 3 {
		t.Fatalf("one table: %d %v", n, err)
	}
	body = `{"tables":[` + table + `,` + table + `]}`
	if _, err := verify(context.Background(), "b1"); err == nil || !strings.Contains(err.Error(), "returned 2 tables") {
		t.Errorf("two tables: %v", err)
	}
}
