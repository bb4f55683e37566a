package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// BenchmarkOverview renders the overview of one subscription whose
// summary names 200 policy assignments with non-compliant resources,
// through the Azure SDK against a loopback fake of the management API:
// the SDK round trips, the JSON decoding, the chart and the template. It
// reports the page's weight in bytes.
func BenchmarkOverview(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"value":[{"results":{"nonCompliantResources":20000,"resourceDetails":[{"complianceState":"compliant","count":80000},{"complianceState":"noncompliant","count":20000}]},"policyAssignments":[`)
	for i := range 200 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"policyAssignmentId":"/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/a%03d","results":{"nonCompliantResources":%d}}`, i, 100+i)
	}
	sb.WriteString(`]}]}`)
	srv := fakeARMFor(b, sb.String())
	c, err := New(Options{Issuer: "https://login.test/t/v2.0", ClientID: "c", BaseURL: "https://steward.test/console/",
		Sessions: memSessions{},
		ARM: &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: srv.URL, Audience: "https://management.azure.com"}}}}}})
	if err != nil {
		b.Fatal(err)
	}
	s := &session{Name: "Ann", AccessToken: "user-token", Expires: time.Now().Add(time.Hour), CSRF: "x"}
	req := httptest.NewRequest(http.MethodGet, "/console/", nil)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		c.overview(rec, req, s)
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}
