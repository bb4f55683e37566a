package vending

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/steward-gov/steward/internal/arm"
)

// StepUpMaxAge is how recent an approver's multifactor sign-in must be.
const StepUpMaxAge = 10 * time.Minute

// Decision is the outcome of an approval.
type Decision struct {
	Approved bool      `json:"approved"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
}

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{24}$`)

// isApprover reports whether who is a member of the request's approver
// group (by the groups claim of its token).
func isApprover(who Caller, rec Record) bool {
	return rec.Approvers != "" && slices.ContainsFunc(who.Groups, func(g string) bool { return strings.EqualFold(g, rec.Approvers) })
}

// visible returns the caller's own requests and the pending requests the
// caller may approve.
func (p *Public) visible(ctx context.Context, k ValetKey, who Caller) ([]Record, error) {
	own, err := p.records(ctx, k, "PartitionKey eq '"+who.ObjectID+"'")
	if err != nil {
		return nil, err
	}
	if len(who.Groups) == 0 {
		return own, nil
	}
	pending, err := p.records(ctx, k, "Status eq '"+StatusPending+"'")
	if err != nil {
		return nil, err
	}
	for _, r := range pending {
		if r.Caller != who.ObjectID && isApprover(who, r) {
			own = append(own, r)
		}
	}
	slices.SortStableFunc(own, func(a, b Record) int { return a.Created.Compare(b.Created) })
	return own, nil
}

// find returns a request the caller may see: its own, or one it may
// approve; any other is 404, so request IDs do not leak.
func (p *Public) find(ctx context.Context, k ValetKey, who Caller, id string) (Record, azcore.ETag, error) {
	notFound := arm.NotFound("RequestNotFound", "You have no request '%s'.", clip(id))
	if !requestIDRE.MatchString(id) {
		return Record{}, "", notFound
	}
	rec, etag, ok, err := p.recordAt(ctx, k, who.ObjectID, id)
	if err != nil || ok {
		return rec, etag, err
	}
	if len(who.Groups) == 0 {
		return Record{}, "", notFound
	}
	recs, err := p.records(ctx, k, "RowKey eq '"+id+"'")
	if err != nil {
		return Record{}, "", err
	}
	for _, r := range recs {
		if isApprover(who, r) {
			rec, etag, ok, err := p.recordAt(ctx, k, r.Caller, id)
			if err == nil && !ok {
				err = notFound
			}
			return rec, etag, err
		}
	}
	return Record{}, "", notFound
}

// claimsChallenge answers 401 with Entra's claims challenge: the caller
// must sign in again with multifactor authentication (the
// authentication context AuthContext) and present a fresh token.
func (p *Public) claimsChallenge(w http.ResponseWriter, who Caller) {
	writeClaimsChallenge(w, who, p.AuthorizationURI, p.AuthContext, "Approving")
}

// writeClaimsChallenge answers 401 InsufficientClaims with the
// WWW-Authenticate claims challenge for a step-up to authentication
// context acr at the authorization endpoint uri ({tenant} replaced);
// doing names what needs it.
func writeClaimsChallenge(w http.ResponseWriter, who Caller, uri, acr, doing string) {
	if acr == "" {
		acr = "c1"
	}
	claims, _ := json.Marshal(map[string]any{"access_token": map[string]any{
		"acrs": map[string]any{"essential": true, "value": acr}, "amr": map[string]any{"essential": true, "values": []string{"mfa"}},
		"auth_time": map[string]any{"essential": true}}})
	if uri == "" {
		uri = "https://login.microsoftonline.com/common/oauth2/authorize"
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+who.TenantID+`", authorization_uri="`+strings.ReplaceAll(uri, "{tenant}", who.TenantID)+
		`", error="insufficient_claims", claims="`+base64.StdEncoding.EncodeToString(claims)+`"`)
	arm.WriteError(w, arm.Errorf(http.StatusUnauthorized, "InsufficientClaims",
		"%s needs a multifactor sign-in within the last %d minutes (amr 'mfa' and auth_time in the token); sign in again with the claims of the WWW-Authenticate challenge.",
		doing, int(StepUpMaxAge/time.Minute)))
}

// steppedUp reports whether who signed in with multifactor
// authentication within StepUpMaxAge.
func (p *Public) steppedUp(who Caller) bool { return steppedUp(who, p.now()) }

func steppedUp(who Caller, now time.Time) bool {
	return slices.Contains(who.AMR, "mfa") && !who.AuthTime.IsZero() &&
		now.Sub(who.AuthTime) <= StepUpMaxAge && who.AuthTime.Before(now.Add(5*time.Minute))
}

// decide serves POST /vending/v1/requests/{id}/approve|reject: a member
// of the approver group, freshly signed in with MFA, approves (the
// request is carried out) or rejects (it fails with RequestRejected).
func (p *Public) decide(w http.ResponseWriter, r *http.Request, who Caller, id string, approve bool) {
	ctx := r.Context()
	var body struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			arm.WriteError(w, err)
			return
		}
	}
	if len(body.Reason) > 1000 {
		arm.WriteError(w, arm.BadRequest("InvalidReason", "The reason is longer than 1000 characters."))
		return
	}
	k, err := p.Internal.ValetKey(ctx)
	if err != nil {
		writeResult(w, 0, nil, err)
		return
	}
	rec, etag, err := p.find(ctx, k, who, id)
	if err != nil {
		writeResult(w, 0, nil, err)
		return
	}
	if !isApprover(who, rec) {
		arm.WriteError(w, arm.Errorf(http.StatusForbidden, "AuthorizationFailed",
			"The client '%s' may not approve or reject request '%s'; only members of its approver group may.", who.ObjectID, rec.ID))
		return
	}
	if rec.Caller == who.ObjectID {
		arm.WriteError(w, arm.Errorf(http.StatusForbidden, "SelfApprovalNotAllowed", "You may not approve or reject your own request '%s'.", rec.ID))
		return
	}
	if !p.steppedUp(who) {
		p.claimsChallenge(w, who)
		return
	}
	if rec.Status != StatusPending {
		arm.WriteError(w, arm.Errorf(http.StatusConflict, "RequestNotPending", "The request '%s' is %s, not %s.", rec.ID, rec.Status, StatusPending))
		return
	}
	var plan Plan
	if approve {
		cat, err := ReadCatalog(ctx, k.Open(p.Tables))
		if err != nil {
			writeResult(w, 0, nil, err)
			return
		}
		sub, ok := cat.Subscriptions[strings.ToLower(strings.TrimSpace(rec.Request.SubscriptionID))]
		if !ok {
			arm.WriteError(w, arm.Errorf(http.StatusConflict, "SubscriptionNotSupported",
				"The subscription '%s' is no longer in the catalog; reject the request.", rec.Request.SubscriptionID))
			return
		}
		plan = planOf(sub, rec)
	}
	now := p.now().UTC()
	rec.Updated = now
	rec.Decision = &Decision{Approved: approve, By: who.ObjectID, At: now, Reason: body.Reason}
	if approve {
		rec.Status = StatusRunning
		rec.Owner, rec.LeaseUntil = p.owner(), now.Add(p.leaseTTL())
	} else {
		rec.Status = StatusFailed
		rec.Error = arm.Errorf(http.StatusForbidden, "RequestRejected", "The request was rejected by '%s'%s.", who.ObjectID, reasonSuffix(body.Reason))
	}
	if etag, err = p.saveRecord(ctx, k, rec, false, etag); err != nil {
		if isCode(err, "UpdateConditionNotSatisfied") {
			err = arm.Errorf(http.StatusConflict, "RequestNotPending", "The request '%s' was decided meanwhile.", rec.ID)
		}
		writeResult(w, 0, nil, err)
		return
	}
	if approve {
		p.start(rec, etag, plan)
	}
	writeResult(w, http.StatusOK, rec, nil)
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + clip(r)
}
