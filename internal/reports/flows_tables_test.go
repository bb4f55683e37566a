package reports

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

type fixedToken struct{}

func (fixedToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestDeniedFlowsWantOneTable: the findings come from the query's one
// table; an answer with several is an error, not their rows mixed.
func TestDeniedFlowsWantOneTable(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tables":[{"name":"PrimaryResult","columns":[],"rows":[]},{"name":"PrimaryResult","columns":[],"rows":[]}]}`))
	}))
	defer srv.Close()
	qc, err := query.NewClient(fixedToken{}, &query.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client(),
		Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			query.ServiceName: {Endpoint: srv.URL + "/v1", Audience: "https://api.loganalytics.io"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DeniedFlowsFrom(context.Background(), qc, "00000000-0000-0000-0000-000000000001", 7); err == nil || !strings.Contains(err.Error(), "returned 2 tables") {
		t.Errorf("two tables: %v", err)
	}
}
