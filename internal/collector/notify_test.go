package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// mapInventory is an Inventory in memory.
type mapInventory struct {
	mu sync.Mutex
	m  map[string]Deployment
}

func (i *mapInventory) Get(_ context.Context, pk, rk string) (Deployment, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	d, ok := i.m[pk+"/"+rk]
	if !ok {
		return Deployment{}, ErrNoDeployment
	}
	return d, nil
}

func (i *mapInventory) Put(_ context.Context, d Deployment) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	pk, rk := d.Key()
	i.m[pk+"/"+rk] = d
	return nil
}

func (i *mapInventory) Delete(_ context.Context, pk, rk string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.m, pk+"/"+rk)
	return nil
}

func (i *mapInventory) List(context.Context) ([]Deployment, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []Deployment
	for _, d := range i.m {
		out = append(out, d)
	}
	return out, nil
}

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestNotificationOfAnUnreadableApplication: ARM refuses the principal
// the application (403, as it does when no definition authorizes it). A
// PUT is recorded Inaccessible, never collectable, keeping what an earlier
// record knew; a DELETE removes the record.
func TestNotificationOfAnUnreadableApplication(t *testing.T) {
	arm := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"AuthorizationFailed","message":"no access"}}`))
	}))
	defer arm.Close()
	opts := &azarm.ClientOptions{ClientOptions: policy.ClientOptions{Transport: arm.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
		Cloud: azcloud.Configuration{Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Endpoint: arm.URL, Audience: "https://management.azure.com"}}}}}
	apps, err := NewApplications(staticToken{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	inv := &mapInventory{m: map[string]Deployment{}}
	n := &Notifications{Sig: "s", Apps: apps, Inventory: inv}
	notify := func(ev map[string]any) (int, Outcome) {
		t.Helper()
		b, _ := json.Marshal(ev)
		rec := httptest.NewRecorder()
		n.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/resource?sig=s", bytes.NewReader(b)))
		var out Outcome
		_ = json.NewDecoder(rec.Body).Decode(&out)
		return rec.Code, out
	}
	app := "/subscriptions/s1/resourceGroups/Apps/providers/Microsoft.Solutions/applications/App1"
	// An earlier record (from when the principal could read it).
	if err := inv.Put(context.Background(), Deployment{ApplicationID: app, SubscriptionID: "s1", ResourceGroup: "Apps", Name: "App1",
		ManagedResourceGroupID: "/subscriptions/s1/resourceGroups/mrg", ProvisioningState: StateSucceeded, TenantID: "t1"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	code, out := notify(map[string]any{"eventType": "PATCH", "applicationId": strings.TrimPrefix(app, "/"), "provisioningState": "Succeeded", "eventTime": at})
	if code != 200 || out.ProvisioningState != StateInaccessible || out.Action != "recorded" {
		t.Fatalf("PATCH: %d %+v", code, out)
	}
	deps, _ := inv.List(context.Background())
	if len(deps) != 1 || deps[0].ProvisioningState != StateInaccessible || deps[0].Collectable() || deps[0].TenantID != "t1" ||
		deps[0].ManagedResourceGroupID == "" || deps[0].LastEventType != "PATCH" || !deps[0].LastEventTime.Equal(at) {
		t.Fatalf("the record: %+v", deps)
	}
	// A new application: recorded from the event alone.
	other := "/subscriptions/s1/resourceGroups/apps/providers/Microsoft.Solutions/applications/app2"
	if code, out := notify(map[string]any{"eventType": "PUT", "applicationId": other, "provisioningState": "Succeeded"}); code != 200 || out.ProvisioningState != StateInaccessible {
		t.Fatalf("PUT: %d %+v", code, out)
	}
	if d, err := inv.Get(context.Background(), "s1", "apps|app2"); err != nil || d.ApplicationID != other || d.Collectable() {
		t.Fatalf("app2: %+v %v", d, err)
	}
	if code, out := notify(map[string]any{"eventType": "DELETE", "applicationId": app, "provisioningState": "Deleted", "eventTime": at.Add(time.Minute)}); code != 200 || out.Action != "removed" {
		t.Fatalf("DELETE: %d %+v", code, out)
	}
	if deps, _ := inv.List(context.Background()); len(deps) != 1 {
		t.Fatalf("after the DELETE: %+v", deps)
	}
}
