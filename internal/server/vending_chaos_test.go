package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/store/storetest"
	"github.com/steward-gov/steward/internal/vending"
)

// chaosVendingEnv hands replica A (the child process) its settings.
const chaosVendingEnv = "STEWARD_CHAOS_VENDING"

// vendingChaos is what replica A needs: the shared store and root key, a
// team's credentials, the request, and where to signal the parent.
type vendingChaos struct {
	Store, RootKeyFile     string
	TeamApp, TeamSecret    string
	Request                vending.Request
	ClientRequestID, Group string
	Signal                 string
}

// armSpy is an ARM pipeline policy that reports PUTs of the group named
// group and of role assignments in it to seen before they are sent; when
// block is set, a role assignment PUT never leaves (the replica is killed
// there).
type armSpy struct {
	group string
	seen  func(what string)
	block bool
}

func (p armSpy) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	if r.Method == http.MethodPut {
		path, rg := strings.ToLower(r.URL.Path), "/resourcegroups/"+strings.ToLower(p.group)
		switch {
		case strings.HasSuffix(path, rg):
			p.seen("group-put")
		case strings.Contains(path, rg+"/providers/microsoft.authorization/roleassignments/"):
			p.seen("role-put")
			if p.block {
				select {} // killed here
			}
		}
	}
	return req.Next()
}

// spyOn adds spy to the vending plane's ARM pipeline.
func spyOn(p *VendingPlane, spy armSpy) {
	p.Public.ARM.PerCallPolicies = append(slices.Clone(p.Public.ARM.PerCallPolicies), spy)
}

// TestKill9DuringVendingRequest: replica A (a child process on the same
// PostgreSQL schema) accepts a team's request for a resource group (202),
// creates the group and is killed with SIGKILL as it is about to write
// the first role assignment. Replica B (this process) takes the request
// over when A's lease (2 s here) runs out and finishes it: the group A
// created is kept (B never PUTs it), the role assignments, policy
// assignment, budget and lock are made, and the request ends Succeeded. A
// retry of the request with the same client request ID answers the same
// record.
func TestKill9DuringVendingRequest(t *testing.T) {
	storetest.RunReplica(chaosVendingEnv, 4*time.Minute, vendingReplicaA)
	pg := storetest.PostgresSchema(t)
	const lease = 2 * time.Second
	req := vending.Request{Name: "chaos", Environment: "dev", CostCenter: "cc1", Region: "westeurope",
		Tags: map[string]string{"Owner": "team-a"}}
	const group = "rg-dev-cc1-chaos-westeurope" // the catalog's naming rule
	var bGroupPuts, bRolePuts atomic.Int32
	e := newVendingEnvOn(t, pg, VendingOptions{LeaseTTL: lease}, func(p *VendingPlane) {
		spyOn(p, armSpy{group: group, seen: func(what string) {
			if what == "group-put" {
				bGroupPuts.Add(1)
			} else {
				bRolePuts.Add(1)
			}
		}})
	})
	req.SubscriptionID = e.subs[0]
	groupPath := "/subscriptions/" + e.subs[0] + "/resourceGroups/" + group

	// A's signals: its 202 (with the request's ID), its group PUT, and the
	// role assignment PUT it is blocked in.
	var mu sync.Mutex
	var aGroupPuts int
	acked, blocked := make(chan string, 1), make(chan struct{})
	blockedOnce := sync.OnceFunc(func() { close(blocked) })
	sig := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ack":
			acked <- r.URL.Query().Get("id")
		case "/group-put":
			mu.Lock()
			aGroupPuts++
			mu.Unlock()
		case "/role-put":
			blockedOnce()
		}
	}))
	defer sig.Close()
	child := storetest.StartReplica(t, chaosVendingEnv, vendingChaos{Store: pg, RootKeyFile: e.cfg.RootKeyFile, TeamApp: e.teamApps[0], TeamSecret: e.teamSecrets[0],
		Request: req, ClientRequestID: "chaos-1", Group: group, Signal: sig.URL})
	var id string
	for id == "" {
		id = storetest.Await(t, child, acked, 3*time.Minute, "replica A did not accept the request")
	}
	storetest.Await(t, child, blocked, 3*time.Minute, "replica A did not reach the role assignments")
	child.Kill(t)
	killed := time.Now()

	// B takes the request over once A's lease has run out.
	var rec map[string]any
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, _, out := e.call(t, e.teams[0], http.MethodGet, vending.PublicPrefix+"requests/"+id, nil, nil)
		if st != http.StatusOK {
			t.Fatalf("GET request %s = %d %v", id, st, out)
		}
		if out["status"] != vending.StatusRunning {
			rec = out
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s still %v 3 minutes after A was killed", id, out["status"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("B finished A's request %.1f s after A was killed (lease %s)", time.Since(killed).Seconds(), lease)
	if rec["status"] != vending.StatusSucceeded {
		t.Fatalf("request after the takeover: %v", rec)
	}
	mu.Lock()
	aPuts := aGroupPuts
	mu.Unlock()
	if aPuts != 1 || bGroupPuts.Load() != 0 {
		t.Errorf("group PUTs: A %d, B %d; want A's one only", aPuts, bGroupPuts.Load())
	}
	if n := bRolePuts.Load(); n != 2 {
		t.Errorf("B wrote %d role assignments; want the catalog's 2", n)
	}
	res, _ := rec["resources"].([]any)
	if len(res) != 6 || !strings.EqualFold(res[0].(string), groupPath) {
		t.Errorf("resources recorded: %v; want the group, 2 role assignments, the policy assignment, the budget and the lock", res)
	}

	// What ARM shows: one group, tagged with the request, with exactly
	// the catalog's role assignments and the lock.
	ctx := context.Background()
	rgs, err := armresources.NewResourceGroupsClient(e.subs[0], e.admin, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	rg, err := rgs.Get(ctx, group, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tag := rg.Tags[vending.TagRequest]; tag == nil || *tag != id || rg.Tags["Owner"] == nil {
		t.Errorf("group tags: %v; want %s=%s and the request's tags", rg.Tags, vending.TagRequest, id)
	}
	ras, err := armauthorization.NewRoleAssignmentsClient(e.subs[0], e.admin, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	scope := "/subscriptions/" + e.subs[0] + "/resourceGroups/" + group
	atScope := 0
	for pager := ras.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("atScope()")}); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ra := range page.Value {
			if strings.EqualFold(*ra.Properties.Scope, scope) {
				atScope++
			}
		}
	}
	if atScope != 2 {
		t.Errorf("role assignments at the group: %d; want 2", atScope)
	}
	locks, err := armlocks.NewManagementLocksClient(e.subs[0], e.admin, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locks.GetByScope(ctx, scope, "vending-do-not-delete", nil); err != nil {
		t.Errorf("lock: %v", err)
	}

	// The acknowledged request is the same request on every replica: a
	// retry answers its record and does nothing again.
	st, _, again := e.call(t, e.teams[0], http.MethodPost, vending.PublicPrefix+"resourceGroups", req, map[string]string{"x-ms-client-request-id": "chaos-1"})
	if st != http.StatusAccepted || again["id"] != id || again["status"] != vending.StatusSucceeded {
		t.Errorf("retry on B = %d %v; want 202 with request %s Succeeded", st, again, id)
	}
	if n := bGroupPuts.Load(); n != 0 {
		t.Errorf("B PUT the group %d times after the retry", n)
	}
}

// vendingReplicaA is replica A: a Steward on the shared store whose
// vending ARM calls are spied on, which posts the team's request to
// itself, signals its 202, and blocks at the first role assignment until
// it is killed.
func vendingReplicaA(cfg vendingChaos) {
	signal := func(what string, q url.Values) {
		resp, err := http.Get(cfg.Signal + "/" + what + "?" + q.Encode())
		if err != nil {
			storetest.ChildExit("replica A: signal:", err)
		}
		resp.Body.Close()
	}
	dir, err := os.MkdirTemp("", "replica-a-")
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	defer os.RemoveAll(dir)
	c := DefaultConfig()
	c.DataDir, c.Listen, c.StoreURL, c.RootKeyFile = dir, "127.0.0.1:0", cfg.Store, cfg.RootKeyFile
	ctx := context.Background()
	s, err := Open(ctx, c, nil, vendingServices(VendingOptions{LeaseTTL: 2 * time.Second}, func(p *VendingPlane) {
		spyOn(p, armSpy{group: cfg.Group, block: true, seen: func(what string) { signal(what, nil) }})
	})...)
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	go func() {
		if err := s.Run(ctx); err != nil {
			storetest.ChildExit("replica A: run:", err)
		}
	}()
	cred, err := s.SecretCredential(cfg.TeamApp, cfg.TeamSecret)
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	var tok string
	for deadline := time.Now().Add(2 * time.Minute); ; { // until A serves
		t, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{VendingAudience + "/.default"}})
		if err == nil {
			tok = t.Token
			break
		}
		if time.Now().After(deadline) {
			storetest.ChildExit("replica A: token:", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	body, _ := json.Marshal(cfg.Request)
	r, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(s.BaseURL, "/")+vending.PublicPrefix+"resourceGroups", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("x-ms-client-request-id", cfg.ClientRequestID)
	resp, err := (&http.Client{Transport: s.Transport()}).Do(r)
	if err != nil {
		storetest.ChildExit("replica A: request:", err)
	}
	var rec vending.Record
	err = json.NewDecoder(resp.Body).Decode(&rec)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || err != nil {
		storetest.ChildExit("replica A: request answered", resp.StatusCode, err, rec.Error)
	}
	signal("ack", url.Values{"id": {rec.ID}})
	select {}
}
