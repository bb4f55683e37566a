package web

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// VendingScope is what the console asks for to call the vending API as
// the user.
const VendingScope = "api://steward-vending/.default"

// vendingRequest is a request as GET /vending/v1/requests returns it.
type vendingRequest struct {
	ID      string `json:"id"`
	Caller  string `json:"caller"`
	Status  string `json:"status"`
	Request struct {
		SubscriptionID string `json:"subscriptionId"`
		Name           string `json:"name"`
		Environment    string `json:"environment"`
		CostCenter     string `json:"costCenter"`
		Region         string `json:"region"`
	} `json:"request"`
	Group    string `json:"resourceGroupId"`
	Decision *struct {
		Approved bool      `json:"approved"`
		By       string    `json:"by"`
		At       time.Time `json:"at"`
		Reason   string    `json:"reason"`
	} `json:"decision"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Created time.Time `json:"createdAt"`
}

type vendingData struct {
	Mine, ToApprove []vendingRequest
}

// userCredentialFor is the user's token for another API, redeemed from the
// session's refresh token.
type userCredentialFor struct {
	c *Console
	s *session
}

func (u userCredentialFor) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return u.c.tokenFor(ctx, u.s, strings.Join(o.Scopes, " "))
}

// vendingCall sends one request to the vending API as the user through an
// azcore pipeline (bearer token, retries, the console's transport).
func (c *Console) vendingCall(ctx context.Context, s *session, method, path string, body any, out any) error {
	return c.vendingCallURL(ctx, s, method, c.opts.Vending+path, body, out)
}

// vendingCallURL calls the vending service at u as the user.
func (c *Console) vendingCallURL(ctx context.Context, s *session, method, u string, body any, out any) error {
	opts := azcore.ClientOptions{}
	if c.opts.ARM != nil {
		opts.Transport, opts.Retry = c.opts.ARM.Transport, c.opts.ARM.Retry
	}
	client, err := azcore.NewClient("steward-console", "v1.0.0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(userCredentialFor{c, s}, []string{VendingScope}, nil)}}, &opts)
	if err != nil {
		return err
	}
	req, err := runtime.NewRequest(ctx, method, u)
	if err != nil {
		return err
	}
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			return err
		}
	}
	return sendJSON(client.Pipeline(), req, out)
}

// vendingPage lists the user's requests and, for an approver, the requests
// waiting for the user's decision (the API returns both: the caller's and
// the pending ones of the caller's approver groups).
func (c *Console) vendingPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Vending", User: s, FreshMFA: s.freshMFA(c.opts.Now()), Notice: noticeText(r.URL.Query().Get("done")), Vending: &vendingData{}}
	if c.opts.Vending == "" {
		d.Error = "Vending is not served by this Steward."
		c.render(w, r, "vending", http.StatusOK, d)
		return
	}
	var list struct {
		Value []vendingRequest `json:"value"`
	}
	if err := c.vendingCall(r.Context(), s, http.MethodGet, "/requests", nil, &list); err != nil {
		c.opts.Logger.WarnContext(r.Context(), "console: listing vending requests", "err", err.Error())
		d.Error = "Your vending requests could not be read; try again."
	}
	for _, v := range list.Value {
		if strings.EqualFold(v.Caller, s.ObjectID) {
			d.Vending.Mine = append(d.Vending.Mine, v)
		} else if v.Status == "PendingApproval" {
			d.Vending.ToApprove = append(d.Vending.ToApprove, v)
		}
	}
	newest := func(l []vendingRequest) {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Created.After(l[j].Created) })
	}
	newest(d.Vending.Mine)
	newest(d.Vending.ToApprove)
	c.render(w, r, "vending", http.StatusOK, d)
}

var requestIDPattern = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

// vendingDecide approves or rejects a request as the user. Both need a
// second factor from the last 10 minutes: without one the browser goes
// through the authorization endpoint first (the API would answer 401
// InsufficientClaims).
func (c *Console) vendingDecide(w http.ResponseWriter, r *http.Request, s *session) {
	id, decision, reason := r.PostForm.Get("request"), r.PostForm.Get("decision"), strings.TrimSpace(r.PostForm.Get("reason"))
	if !requestIDPattern.MatchString(id) || (decision != "approve" && decision != "reject") || len(reason) > 1000 {
		c.fail(w, r, http.StatusBadRequest, "The form names no request or no decision (approve or reject), or its reason is too long.", nil)
		return
	}
	if !s.freshMFA(c.opts.Now()) {
		http.Redirect(w, r, stepUpURL(Prefix+"vending"), http.StatusSeeOther)
		return
	}
	err := c.vendingCall(r.Context(), s, http.MethodPost, "/requests/"+id+"/"+decision, map[string]string{"reason": reason}, nil)
	if needsStepUp(err) {
		http.Redirect(w, r, stepUpURL(Prefix+"vending"), http.StatusSeeOther)
		return
	}
	if err != nil {
		c.apiFail(w, r, err)
		return
	}
	done := "approved"
	if decision == "reject" {
		done = "rejected"
	}
	http.Redirect(w, r, Prefix+"vending?done="+done, http.StatusSeeOther)
}
