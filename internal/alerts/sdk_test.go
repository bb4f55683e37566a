package alerts

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
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestSDKQueryRefusesSeveralTables: a rule measures one table; a query
// answered with several (fork, several statements) is an error naming
// why, never its first table alone.
func TestSDKQueryRefusesSeveralTables(t *testing.T) {
	body := `{"tables":[{"name":"PrimaryResult","columns":[{"name":"n","type":"long"}],"rows":[[1]]}]}`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	opts := &azlogs.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client(),
		Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			azlogs.ServiceName: {Endpoint: srv.URL + "/v1", Audience: "https://api.loganalytics.io"}}}}}
	q, err := SDKQuery(staticToken{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ws := "/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w"
	if tab, err := q(context.Background(), ws, "T | count", time.Now().Add(-time.Hour), time.Now()); err != nil || len(tab.Rows) != 1 {
		t.Fatalf("one table: %v %v", tab, err)
	}
	body = `{"tables":[{"name":"PrimaryResult","columns":[{"name":"n","type":"long"}],"rows":[[1]]},{"name":"B","columns":[{"name":"n","type":"long"}],"rows":[[2]]}]}`
	_, err = q(context.Background(), ws, "T | fork (count) B=(count)", time.Now().Add(-time.Hour), time.Now())
	if err == nil || !strings.Contains(err.Error(), "must return one table") {
		t.Errorf("two tables: %v", err)
	}
}
