package vending

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/steward-gov/steward/internal/arm"
)

// PublicPrefix is the public API's path prefix.
const PublicPrefix = "/vending/v1/"

// OpenAPI is the public API's OpenAPI document, served at
// {PublicPrefix}openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// InternalClient calls the internal API as the public API's identity.
type InternalClient struct {
	// Base is the internal API's base URL (without the path).
	Base       string
	Credential azcore.TokenCredential
	// Scope is the scope of the internal API's tokens.
	Scope string
	HTTP  *http.Client

	mu  sync.Mutex
	key ValetKey
	// tokens caches the execution contexts' tokens by subscription.
	tokens map[string]azcore.AccessToken
}

func (c *InternalClient) post(ctx context.Context, path string, body, out any) error {
	tok, err := c.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.Scope}})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Base, "/")+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		if e := arm.DecodeError(resp.StatusCode, raw); e != nil {
			return fmt.Errorf("vending: internal API: %s: %s", e.Code, e.Message)
		}
		return fmt.Errorf("vending: internal API answered %d", resp.StatusCode)
	}
	return json.Unmarshal(raw, out)
}

// ValetKey returns a valet key, reusing the last one until a minute before
// it expires.
func (c *InternalClient) ValetKey(ctx context.Context) (ValetKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Until(c.key.ExpiresOn) > time.Minute {
		return c.key, nil
	}
	var k ValetKey
	if err := c.post(ctx, ValetKeyPath, struct{}{}, &k); err != nil {
		return ValetKey{}, err
	}
	c.key = k
	return k, nil
}

// Execution is the credential of a subscription's execution context: its
// tokens come from the internal API.
func (c *InternalClient) Execution(subscriptionID string) azcore.TokenCredential {
	return executionCredential{c: c, sub: subscriptionID}
}

type executionCredential struct {
	c   *InternalClient
	sub string
}

// GetToken returns the execution context's token, from the cache while it
// has more than five minutes left (each ARM client of a request asks).
func (e executionCredential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	e.c.mu.Lock()
	tok, ok := e.c.tokens[e.sub]
	e.c.mu.Unlock()
	if ok && time.Until(tok.ExpiresOn) > 5*time.Minute {
		return tok, nil
	}
	var out struct {
		AccessToken string    `json:"accessToken"`
		ExpiresOn   time.Time `json:"expiresOn"`
	}
	if err := e.c.post(ctx, ExecutionTokenPath, map[string]string{"subscriptionId": e.sub}, &out); err != nil {
		return azcore.AccessToken{}, err
	}
	tok = azcore.AccessToken{Token: out.AccessToken, ExpiresOn: out.ExpiresOn}
	e.c.mu.Lock()
	if e.c.tokens == nil {
		e.c.tokens = map[string]azcore.AccessToken{}
	}
	e.c.tokens[e.sub] = tok
	e.c.mu.Unlock()
	return tok, nil
}

// Public is the public API, for teams.
type Public struct {
	Internal *InternalClient
	ARM      *azarm.ClientOptions
	Tables   *aztables.ClientOptions
	Caller   func(*http.Request) (Caller, bool)
	// PageSize bounds list pages (default 100).
	PageSize int
	// AuthorizationURI is the sign-in endpoint named in a claims
	// challenge ("{tenant}" is replaced by the caller's tenant);
	// AuthContext the Conditional Access authentication context it asks
	// for (default "c1").
	AuthorizationURI, AuthContext string
	Log                           *slog.Logger
	Now                           func() time.Time
	// Owner names this replica in the leases of the requests it carries
	// out; LeaseTTL is how long a lease lasts without being renewed
	// (default DefaultLeaseTTL). See [Public.TakeOver].
	Owner    string
	LeaseTTL time.Duration

	wg sync.WaitGroup
}

// Wait waits for the requests being carried out.
func (p *Public) Wait() { p.wg.Wait() }

func (p *Public) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Public) catalog(ctx context.Context) (*Catalog, ValetKey, error) {
	k, err := p.Internal.ValetKey(ctx)
	if err != nil {
		return nil, k, err
	}
	c, err := ReadCatalog(ctx, k.Open(p.Tables))
	return c, k, err
}

// Record is a request as kept in the requests table and shown to its
// caller; its ID is the operation's.
type Record struct {
	ID      string  `json:"id"`
	Caller  string  `json:"caller"`
	Status  string  `json:"status"`
	Request Request `json:"request"`
	Group   string  `json:"resourceGroupId,omitempty"`
	// Tags are the tags the group gets, as validated.
	Tags map[string]string `json:"tags,omitempty"`
	// Approvers is the Entra group that approves the request, when its
	// environment needs approval; Decision is the approval's outcome.
	Approvers string     `json:"approverGroupId,omitempty"`
	Decision  *Decision  `json:"decision,omitempty"`
	Resources []string   `json:"resources,omitempty"`
	Error     *arm.Error `json:"error,omitempty"`
	Created   time.Time  `json:"createdAt"`
	Updated   time.Time  `json:"updatedAt"`
	// Owner is the replica carrying the request out and LeaseUntil when
	// its lease ends, after which another replica takes it over (see
	// [Public.TakeOver]). They are kept as the row's properties, not shown.
	Owner      string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
}

// Request statuses, as ARM's long-running operations name them.
const (
	StatusRunning   = "InProgress"
	StatusSucceeded = "Succeeded"
	StatusFailed    = "Failed"
	// StatusPending is a request waiting for approval.
	StatusPending = "PendingApproval"
)

// recordEntity is a request's row: the record as JSON in Spec, and its
// status and approver group as properties, for filters.
type recordEntity struct {
	entity
	Status     string `json:"Status"`
	Approvers  string `json:"Approvers,omitempty"`
	Owner      string `json:"Owner,omitempty"`
	LeaseUntil string `json:"LeaseUntil,omitempty"`
}

// record is the request the row holds, with its lease.
func (e recordEntity) record() (Record, error) {
	var r Record
	if err := json.Unmarshal([]byte(e.Spec), &r); err != nil {
		return r, err
	}
	r.Owner = e.Owner
	if e.LeaseUntil != "" {
		t, err := time.Parse(time.RFC3339Nano, e.LeaseUntil)
		if err != nil {
			return r, fmt.Errorf("request %s: lease end %q: %w", r.ID, e.LeaseUntil, err)
		}
		r.LeaseUntil = t
	}
	return r, nil
}

// saveRecord adds rec, or replaces it; etag, when given, must match. It
// returns the row's new ETag.
func (p *Public) saveRecord(ctx context.Context, k ValetKey, rec Record, add bool, etag ...azcore.ETag) (azcore.ETag, error) {
	tc, err := k.Open(p.Tables)(TableRequests)
	if err != nil {
		return "", err
	}
	spec, _ := json.Marshal(rec)
	row := recordEntity{entity: entity{PartitionKey: rec.Caller, RowKey: rec.ID, Spec: string(spec)}, Status: rec.Status, Approvers: rec.Approvers, Owner: rec.Owner}
	if !rec.LeaseUntil.IsZero() {
		row.LeaseUntil = rec.LeaseUntil.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(row)
	if add {
		res, err := tc.AddEntity(ctx, b, nil)
		return res.ETag, err
	}
	opts := &aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeReplace}
	if len(etag) > 0 {
		opts.IfMatch = &etag[0]
	}
	res, err := tc.UpdateEntity(ctx, b, opts)
	return res.ETag, err
}

func (p *Public) records(ctx context.Context, k ValetKey, filter string) ([]Record, error) {
	tc, err := k.Open(p.Tables)(TableRequests)
	if err != nil {
		return nil, err
	}
	var out []Record
	pager := tc.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: ptr(filter)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, raw := range page.Entities {
			var e recordEntity
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			if r, err := e.record(); err == nil {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

func (p *Public) record(ctx context.Context, k ValetKey, caller, id string) (Record, bool, error) {
	r, _, ok, err := p.recordAt(ctx, k, caller, id)
	return r, ok, err
}

// recordAt reads a request with its ETag.
func (p *Public) recordAt(ctx context.Context, k ValetKey, caller, id string) (Record, azcore.ETag, bool, error) {
	tc, err := k.Open(p.Tables)(TableRequests)
	if err != nil {
		return Record{}, "", false, err
	}
	res, err := tc.GetEntity(ctx, caller, id, nil)
	if isCode(err, "ResourceNotFound") {
		return Record{}, "", false, nil
	}
	if err != nil {
		return Record{}, "", false, err
	}
	var e recordEntity
	if err := json.Unmarshal(res.Value, &e); err != nil {
		return Record{}, "", false, err
	}
	r, err := e.record()
	return r, res.ETag, true, err
}

func ptr[T any](v T) *T { return &v }

// ServeHTTP serves the public API.
func (p *Public) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	who, ok := p.Caller(r)
	if !ok || who.ObjectID == "" {
		arm.WriteError(w, arm.Errorf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed."))
		return
	}
	who.ObjectID = strings.ToLower(who.ObjectID)
	ctx := r.Context()
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, PublicPrefix), "/"), "/")
	get := r.Method == http.MethodGet
	switch {
	case get && len(parts) == 1 && parts[0] == "openapi.json":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(OpenAPI)
	case get && len(parts) == 1 && parts[0] == "subscriptions":
		cat, _, err := p.catalog(ctx)
		if err != nil {
			writeResult(w, 0, nil, err)
			return
		}
		var items []any
		grants := cat.Grants(who)
		ids := make([]string, 0, len(grants))
		for id := range grants {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			s := grants[id].Subscription
			items = append(items, map[string]any{"subscriptionId": s.ID, "displayName": s.DisplayName})
		}
		p.page(w, r, items)
	case get && len(parts) == 3 && parts[0] == "subscriptions":
		cat, _, err := p.catalog(ctx)
		if err != nil {
			writeResult(w, 0, nil, err)
			return
		}
		g := cat.Grants(who)[strings.ToLower(parts[1])]
		if g == nil {
			arm.WriteError(w, arm.NotFound("SubscriptionNotFound", "The subscription '%s' is not one you may request resource groups in.", clip(parts[1])))
			return
		}
		var list []string
		switch parts[2] {
		case "environments":
			list = g.Environments
		case "costCenters":
			list = g.CostCenters
		case "regions":
			list = g.Regions
		default:
			arm.WriteError(w, arm.NotFound("NotFound", "A subscription has environments, costCenters and regions, not '%s'.", clip(parts[2])))
			return
		}
		items := make([]any, len(list))
		for i, v := range list {
			items[i] = v
		}
		p.page(w, r, items)
	case r.Method == http.MethodPost && len(parts) == 1 && parts[0] == "resourceGroups":
		p.request(w, r, who)
	case get && len(parts) == 1 && parts[0] == "requests":
		_, k, err := p.catalog(ctx)
		if err != nil {
			writeResult(w, 0, nil, err)
			return
		}
		recs, err := p.visible(ctx, k, who)
		if err != nil {
			writeResult(w, 0, nil, err)
			return
		}
		items := make([]any, len(recs))
		for i := range recs {
			items[i] = recs[i]
		}
		p.page(w, r, items)
	case get && len(parts) == 2 && parts[0] == "requests":
		k, err := p.Internal.ValetKey(ctx)
		if err != nil {
			writeResult(w, 0, nil, err)
			return
		}
		rec, _, err := p.find(ctx, k, who, parts[1])
		writeResult(w, http.StatusOK, rec, err)
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "requests" && (parts[2] == "approve" || parts[2] == "reject"):
		p.decide(w, r, who, parts[1], parts[2] == "approve")
	default:
		arm.WriteError(w, arm.NotFound("NotFound", "No vending API at %s %s.", r.Method, clip(r.URL.Path)))
	}
}

// page writes one page of items with a nextLink ($skiptoken is the
// offset).
func (p *Public) page(w http.ResponseWriter, r *http.Request, items []any) {
	size := p.PageSize
	if size <= 0 {
		size = 100
	}
	off := 0
	if s := r.URL.Query().Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			arm.WriteError(w, arm.BadRequest("InvalidSkipToken", "The $skiptoken '%s' is not valid.", clip(s)))
			return
		}
		off = n
	}
	if off > len(items) {
		off = len(items)
	}
	end := min(off+size, len(items))
	out := map[string]any{"value": nonNil(items[off:end])}
	if end < len(items) {
		out["nextLink"] = "https://" + r.Host + r.URL.Path + "?$skiptoken=" + strconv.Itoa(end)
	}
	writeResult(w, http.StatusOK, out, nil)
}

// request serves POST /vending/v1/resourceGroups: validate, record, answer
// 202 with the operation's URL and carry it out.
func (p *Public) request(w http.ResponseWriter, r *http.Request, who Caller) {
	ctx := r.Context()
	var req Request
	if err := decode(r, &req); err != nil {
		arm.WriteError(w, err)
		return
	}
	cat, k, err := p.catalog(ctx)
	if err != nil {
		writeResult(w, 0, nil, err)
		return
	}
	// The client request ID makes a retried request the same request.
	crid := r.Header.Get("x-ms-client-request-id")
	if crid == "" {
		crid = strconv.FormatInt(p.now().UnixNano(), 36)
	}
	sum := sha256.Sum256([]byte(who.ObjectID + "|" + crid))
	id := hex.EncodeToString(sum[:12])
	opURL := "https://" + r.Host + PublicPrefix + "requests/" + id
	if rec, ok, err := p.record(ctx, k, who.ObjectID, id); err != nil {
		writeResult(w, 0, nil, err)
		return
	} else if ok {
		accepted(w, opURL, rec)
		return
	}
	plan, err := cat.Validate(who, req)
	if err != nil {
		arm.WriteError(w, err)
		return
	}
	plan.RequestID = id
	now := p.now().UTC()
	rec := Record{ID: id, Caller: who.ObjectID, Status: StatusRunning, Request: req, Created: now, Updated: now,
		Group: "/subscriptions/" + plan.Subscription.ID + "/resourceGroups/" + plan.Group, Tags: plan.Tags,
		Approvers: plan.Subscription.needsApproval(req.Environment)}
	if rec.Approvers != "" {
		rec.Status = StatusPending
	} else {
		// Leased from the start: if this replica dies, another takes the
		// request over once the lease has run out.
		rec.Owner, rec.LeaseUntil = p.owner(), now.Add(p.leaseTTL())
	}
	etag, err := p.saveRecord(ctx, k, rec, true)
	if err != nil {
		writeResult(w, 0, nil, err)
		return
	}
	if rec.Status == StatusRunning {
		p.start(rec, etag, plan)
	}
	accepted(w, opURL, rec)
}

func accepted(w http.ResponseWriter, opURL string, rec Record) {
	w.Header().Set("Location", opURL)
	w.Header().Set("Azure-AsyncOperation", opURL)
	w.Header().Set("Retry-After", "1")
	writeResult(w, http.StatusAccepted, rec, nil)
}
