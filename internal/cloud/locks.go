package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// TypeLock is the management lock type. Locks are served by the Cloud
// itself, as ARM enforces them before any resource provider sees a request.
const TypeLock = "Microsoft.Authorization/locks"

// The lock levels. NotSpecified, which the API's enum also lists, is
// refused.
const (
	LockCanNotDelete = "CanNotDelete"
	LockReadOnly     = "ReadOnly"
)

// LocksAPIVersions are the api-versions of Microsoft.Authorization/locks.
var LocksAPIVersions = arm.TypeAPIVersions(TypeLock)

// maxLockNotes is the longest notes text the API accepts.
const maxLockNotes = 512

// Lock is what enforcement needs of a stored lock.
type Lock struct {
	ID, Scope, Level string
}

// lockFromResource reads a stored lock document.
func lockFromResource(r Resource) Lock {
	lvl, _ := propsOf(r.Doc)["level"].(string)
	return Lock{ID: r.ID, Scope: lockScope(r.ID), Level: lvl}
}

func propsOf(doc map[string]any) map[string]any {
	p, _ := doc["properties"].(map[string]any)
	return p
}

// lockScope is the scope a lock ID locks: the ID without its
// /providers/Microsoft.Authorization/locks/{name} tail.
func lockScope(id string) string {
	l := strings.ToLower(id)
	if i := strings.LastIndex(l, "/providers/microsoft.authorization/locks/"); i >= 0 {
		return id[:i]
	}
	return id
}

// serveLock answers the lock type at every scope: GET, PUT and DELETE of a
// lock, and GET of the locks at and below a scope.
func (c *Cloud) serveLock(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if err := lockScopeAllowed(t.Scope); err != nil {
		return nil, err
	}
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.listLocks(ctx, call)
	}
	switch call.Method {
	case http.MethodGet:
		r, err := c.Get(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, lockNotFound(t.Name)
		}
		if err != nil {
			return nil, storeError(err)
		}
		return &Response{Status: http.StatusOK, Body: r.Doc}, nil
	case http.MethodPut:
		return c.putLock(ctx, call)
	case http.MethodDelete:
		_, found, err := c.Delete(ctx, call, DeleteRequest{ID: t.ID, Cond: call.Precondition()})
		if err != nil {
			return nil, err
		}
		if !found {
			return &Response{Status: http.StatusNoContent}, nil
		}
		return &Response{Status: http.StatusOK}, nil
	}
	return nil, methodNotAllowed(call.Method)
}

// lockScopeAllowed refuses scopes Azure does not lock: the tenant root and
// management groups.
func lockScopeAllowed(scope string) error {
	r, err := arm.ParseResourceID(scope)
	if err != nil || r.SubscriptionID == "" {
		return arm.BadRequest("InvalidScope",
			"Management locks can be created at a subscription, resource group or resource scope, not at '%s'.", truncate(scope, 300))
	}
	return nil
}

// putLock validates and stores a lock; the scope it locks must exist.
func (c *Cloud) putLock(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if err := validLockName(t.Name); err != nil {
		return nil, err
	}
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	props, err := lockProperties(body)
	if err != nil {
		return nil, err
	}
	scope, _ := arm.ParseResourceID(t.Scope)
	if err := c.RequireScope(ctx, scope); err != nil {
		return nil, err
	}
	doc := map[string]any{"id": t.ID, "name": t.Name, "type": TypeLock, "properties": props}
	r, created, err := c.Put(ctx, call, PutRequest{ID: t.ID, Type: TypeLock, Doc: doc, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &Response{Status: status, Body: r.Doc}, nil
}

// lockProperties checks a lock's properties: a level of CanNotDelete or
// ReadOnly (any casing, stored canonical), notes of at most 512
// characters, owners as given.
func lockProperties(body map[string]any) (map[string]any, error) {
	in, ok := body["properties"].(map[string]any)
	if !ok {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid: 'properties' with a 'level' is required.")
	}
	lvl, _ := in["level"].(string)
	switch {
	case strings.EqualFold(lvl, LockCanNotDelete):
		lvl = LockCanNotDelete
	case strings.EqualFold(lvl, LockReadOnly):
		lvl = LockReadOnly
	default:
		return nil, arm.BadRequest("InvalidLockLevel", "The lock level '%s' is not valid: use 'CanNotDelete' or 'ReadOnly'.", truncate(lvl, 40))
	}
	out := map[string]any{"level": lvl}
	if n, ok := in["notes"]; ok && n != nil {
		s, ok := n.(string)
		if !ok || len([]rune(s)) > maxLockNotes {
			return nil, arm.BadRequest("InvalidRequestContent", "The lock notes must be a string of at most %d characters.", maxLockNotes)
		}
		out["notes"] = s
	}
	if o, ok := in["owners"]; ok && o != nil {
		list, ok := o.([]any)
		if !ok {
			return nil, arm.BadRequest("InvalidRequestContent", "The lock owners must be an array of {\"applicationId\": ...}.")
		}
		out["owners"] = list
	}
	return out, nil
}

// validLockName applies the API's rule: at most 260 characters, none of
// < > % & : \ ? / or control characters.
func validLockName(name string) error {
	if name == "" || len(name) > 260 || strings.ContainsAny(name, "<>%&:\\?/") ||
		strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return arm.BadRequest("InvalidLockName",
			"The lock name '%s' is not valid: at most 260 characters, none of < > %% & : \\ ? / or control characters.", truncate(name, 60))
	}
	return nil
}

func lockNotFound(name string) *arm.Error {
	return arm.NotFound("LockNotFound", "The lock '%s' could not be found.", truncate(name, 260))
}

// listLocks lists the locks at a scope and below it (a subscription's
// list holds its groups' and resources' locks, as Azure's does);
// $filter=atScope() keeps those at the scope and above it, the locks that
// apply to it.
func (c *Cloud) listLocks(ctx context.Context, call *Call) (*Response, error) {
	scope := call.Target.Scope
	atScope := false
	if f := strings.TrimSpace(call.Query.Get("$filter")); f != "" {
		if !strings.EqualFold(strings.ReplaceAll(f, " ", ""), "atScope()") {
			return nil, arm.BadRequest("InvalidFilter", "The $filter '%s' is not supported: use atScope().", truncate(f, 100))
		}
		atScope = true
	}
	all, err := c.locksInSubscription(ctx, scope)
	if err != nil {
		return nil, err
	}
	sl := strings.ToLower(scope)
	items := []any{}
	for _, r := range all {
		ls := strings.ToLower(lockScope(r.ID))
		if atScope && !coversID(ls, sl) || !atScope && !coversID(sl, ls) {
			continue
		}
		items = append(items, r.Doc)
	}
	return call.PageItems(items)
}

// coversID reports whether the lower-cased scope is id or above it.
func coversID(scope, id string) bool {
	return id == scope || strings.HasPrefix(id, scope+"/")
}

// locksInSubscription reads every lock in the subscription of id (locks
// exist only under subscriptions); nil for tenant-level IDs.
func (c *Cloud) locksInSubscription(ctx context.Context, id string) ([]Resource, error) {
	sub := subscriptionOf(Target{ID: id})
	if sub == "" {
		return nil, nil
	}
	var out []Resource
	q := ListQuery{Type: TypeLock, Scope: "/subscriptions/" + sub, Limit: store.MaxPageSize}
	for {
		page, next, err := c.List(ctx, q)
		if err != nil {
			return nil, storeError(err)
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		q.After = next
	}
}

// Locks returns the locks that apply to id (at it or above it) and, with
// below, those on the scopes under it, which a delete of id would remove.
func (c *Cloud) Locks(ctx context.Context, id string, below bool) ([]Lock, error) {
	all, err := c.locksInSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	il := strings.ToLower(strings.TrimRight(id, "/"))
	var out []Lock
	for _, r := range all {
		l := lockFromResource(r)
		ls := strings.ToLower(l.Scope)
		if coversID(ls, il) || below && strings.HasPrefix(ls, il+"/") {
			out = append(out, l)
		}
	}
	return out, nil
}

// checkLocks refuses an operation of a caller on id that a lock forbids:
// a delete under any lock at or above id or on a scope below it, a write
// or a POST action under a ReadOnly lock. Locks themselves are managed
// whatever the locks (only Owner and User Access Administrator may), and
// Steward's own writes (call nil) are not subject to locks.
func (c *Cloud) checkLocks(ctx context.Context, call *Call, op Operation, id, typ string) error {
	if call == nil || strings.EqualFold(typ, TypeLock) {
		return nil
	}
	locks, err := c.Locks(ctx, id, op == OpDelete)
	if err != nil {
		return err
	}
	var scopes []string
	for _, l := range locks {
		if op == OpDelete || l.Level == LockReadOnly {
			scopes = append(scopes, l.Scope)
		}
	}
	if len(scopes) == 0 {
		return nil
	}
	verb := "write"
	if op == OpDelete {
		verb = "delete"
	}
	return arm.Errorf(http.StatusConflict, "ScopeLocked",
		"The scope '%s' cannot perform %s operation because following scope(s) are locked: '%s'. Please remove the lock and try again.",
		id, verb, strings.Join(dedupe(scopes), "', '"))
}

// readOnlyActions are POST actions that only read, which a ReadOnly lock
// does not block: the Policy Insights queries (documented as queries; a
// lock that made compliance unreadable would defeat its purpose).
func readOnlyAction(t Target) bool {
	a := strings.ToLower(t.Action)
	return strings.HasPrefix(strings.ToLower(t.Type), "microsoft.policyinsights/") && (a == "queryresults" || a == "summarize")
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if k := strings.ToLower(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}
