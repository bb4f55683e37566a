package storage

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

// Authorizer decides whether an Entra principal may perform an action at a
// scope (through the RBAC engine). dataAction says whether action is a
// data action (entities) or an action (tables).
type Authorizer func(ctx context.Context, p identity.Principal, action string, dataAction bool, scope string) bool

// The RBAC actions of the Table service.
const (
	actionTablesRead    = "Microsoft.Storage/storageAccounts/tableServices/tables/read"
	actionTablesWrite   = "Microsoft.Storage/storageAccounts/tableServices/tables/write"
	actionTablesDelete  = "Microsoft.Storage/storageAccounts/tableServices/tables/delete"
	actionEntitiesRead  = "Microsoft.Storage/storageAccounts/tableServices/tables/entities/read"
	actionEntitiesAdd   = "Microsoft.Storage/storageAccounts/tableServices/tables/entities/add/action"
	actionEntitiesUpd   = "Microsoft.Storage/storageAccounts/tableServices/tables/entities/update/action"
	actionEntitiesDel   = "Microsoft.Storage/storageAccounts/tableServices/tables/entities/delete"
	resourceTypeService = 's'
	resourceTypeTable   = 'c'
	resourceTypeEntity  = 'o'
)

// caller is an authenticated request: by key, by SAS, or by token.
type caller struct {
	key       bool
	sas       *sasGrant
	principal *identity.Principal
}

// access is what one operation needs.
type access struct {
	// table is the table the operation touches ("" for service level).
	table string
	// level is the account SAS resource type: s, c or o.
	level byte
	// sasPerm are the permissions a SAS must all hold (empty: no SAS may
	// perform the operation, such as the ACL operations).
	sasPerm string
	// accountAnyOf, when set, are alternatives an account SAS may hold
	// instead of sasPerm (creating a table takes a, c or w).
	accountAnyOf string
	// actions are the RBAC actions the operation takes, all of them.
	actions []string
	data    bool
	// keys, when set, are the entity keys a SAS's key range must contain.
	keys *[2]string
}

// authorize checks an operation against what the caller holds.
func (h *Handler) authorize(ctx context.Context, acct Account, c caller, a access) *Error {
	switch {
	case c.key:
		return nil
	case c.sas != nil:
		g := c.sas
		if a.sasPerm == "" {
			return errAuthorization
		}
		if g.account {
			if strings.IndexByte(g.resourceTypes, a.level) < 0 {
				return &Error{Status: http.StatusForbidden, Code: "AuthorizationResourceTypeMismatch", Message: "This request is not authorized to perform this operation using this resource type."}
			}
			if a.accountAnyOf != "" {
				if !strings.ContainsAny(g.permission, a.accountAnyOf) {
					return errPermission
				}
				return nil
			}
		} else {
			if a.level != resourceTypeEntity || a.table != g.table {
				return errAuthorization
			}
			if a.keys != nil && !g.keyRange.contains(a.keys[0], a.keys[1]) {
				return errAuthorization
			}
		}
		for _, p := range a.sasPerm {
			if !strings.ContainsRune(g.permission, p) {
				return errPermission
			}
		}
		return nil
	case c.principal != nil:
		scope := acct.ResourceID + "/tableServices/default"
		if a.table != "" {
			scope += "/tables/" + a.table
		}
		for _, act := range a.actions {
			if h.opts.Authorize == nil || !h.opts.Authorize(ctx, *c.principal, act, a.data, scope) {
				return errPermission
			}
		}
		return nil
	}
	return errAuthorization
}

// authenticate identifies the caller of a request to acct: a SharedKey or
// SharedKeyLite signature, a SAS in the query, or a bearer token.
func (h *Handler) authenticate(r *http.Request, acct Account) (caller, *Error) {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	now := h.now()
	switch {
	case auth != "":
		scheme, cred, _ := strings.Cut(auth, " ")
		switch scheme {
		case "SharedKey", "SharedKeyLite":
			if err := verifySharedKey(r, scheme, strings.TrimSpace(cred), acct, now); err != nil {
				return caller{}, err
			}
			return caller{key: true}, nil
		case "Bearer":
			if h.opts.Validator == nil {
				return caller{}, authFailed("Bearer tokens are not accepted by this service.")
			}
			p, err := h.opts.Validator.Validate(r.Context(), strings.TrimSpace(cred))
			if err != nil {
				return caller{}, &Error{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationInfo",
					Message: "Authentication information is not given in the correct format. Check the value of Authorization header.",
					Detail:  tokenDetail(err)}
			}
			return caller{principal: &p}, nil
		}
		return caller{}, authFailed("The authorization scheme is not supported.")
	case isSAS(q):
		g, err := verifySAS(r, q, acct, now, func(table string) ([]SignedIdentifier, error) {
			t, err := h.svc.data.table(r.Context(), acct.Name, table)
			return t.ACL, err
		})
		if err != nil {
			return caller{}, err
		}
		return caller{sas: g}, nil
	}
	return caller{}, &Error{Status: http.StatusUnauthorized, Code: "NoAuthenticationInformation",
		Message: "Server failed to authenticate the request. Please refer to the information in the www-authenticate header."}
}

// tokenDetail says why a token was refused without echoing it.
func tokenDetail(err error) string {
	if te, ok := err.(*identity.TokenError); ok {
		return te.Message
	}
	return "The token is not valid."
}
