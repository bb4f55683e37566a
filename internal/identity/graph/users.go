package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/steward-gov/steward/internal/identity"
)

var userType = typeInfo{name: "user", set: "users",
	filterable: []string{"id", "userPrincipalName", "displayName", "mail", "mailNickname", "accountEnabled", "givenName",
		"surname", "jobTitle", "department", "employeeId", "otherMails", "createdDateTime"},
	orderable: []string{"displayName", "userPrincipalName"},
	defaults: []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
		"preferredLanguage", "surname", "userPrincipalName", "id"}}

func userJSON(u identity.User) map[string]any {
	m := map[string]any{
		"@odata.type":           userType.odataType(),
		"id":                    u.ID,
		"userPrincipalName":     u.UserPrincipalName,
		"displayName":           u.DisplayName,
		"accountEnabled":        u.AccountEnabled,
		"createdDateTime":       timeOrZero(u.Created),
		"deletedDateTime":       nil,
		"userType":              "Member",
		"businessPhones":        []string{},
		"otherMails":            []string{},
		"givenName":             nil,
		"surname":               nil,
		"jobTitle":              nil,
		"department":            nil,
		"mail":                  nil,
		"mailNickname":          nil,
		"mobilePhone":           nil,
		"officeLocation":        nil,
		"preferredLanguage":     nil,
		"usageLocation":         nil,
		"employeeId":            nil,
		"companyName":           nil,
		"city":                  nil,
		"country":               nil,
		"state":                 nil,
		"postalCode":            nil,
		"streetAddress":         nil,
		"onPremisesImmutableId": nil,
	}
	if !u.SignInSessionsValidFrom.IsZero() {
		m["signInSessionsValidFromDateTime"] = u.SignInSessionsValidFrom.UTC().Format(time.RFC3339)
	}
	return withProps(m, u.Properties)
}

// findUser finds a user by object ID or user principal name.
func (c *call) findUser(idOrUPN string) (identity.User, error) {
	var u identity.User
	var err error
	if strings.Contains(idOrUPN, "@") {
		u, err = c.h.dir.UserByUPN(c.ctx, c.tenant, idOrUPN)
	} else {
		u, err = c.h.dir.User(c.ctx, c.tenant, idOrUPN)
	}
	if errors.Is(err, identity.ErrNotFound) {
		return u, notFound(idOrUPN)
	}
	return u, err
}

func (c *call) users(key string, rest []string) error {
	if key != "" {
		upn, ok := keyValue(key, "")
		if !ok {
			return badRequest("Invalid key '%s': use users/{id | userPrincipalName} or users('{userPrincipalName}').", key)
		}
		u, err := c.findUser(upn)
		if err != nil {
			return err
		}
		return c.userRoutes(u, rest)
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			if !c.reader() {
				return denied()
			}
			us, err := c.h.dir.Users(c.ctx, c.tenant)
			if err != nil {
				return err
			}
			items := make([]map[string]any, 0, len(us))
			for _, u := range us {
				items = append(items, userJSON(u))
			}
			return c.list(userType, items, userType.set)
		case http.MethodPost:
			return c.createUser()
		}
		return methodNotAllowed(c.r)
	}
	if rest[0] == "$count" {
		if !c.reader() {
			return denied()
		}
		us, err := c.h.dir.Users(c.ctx, c.tenant)
		if err != nil {
			return err
		}
		return c.countOnly(len(us))
	}
	u, err := c.findUser(rest[0])
	if err != nil {
		return err
	}
	return c.userRoutes(u, rest[1:])
}

// mayManageUser: a User Administrator manages users who hold no
// directory role; only a Global Administrator manages administrators.
func (c *call) mayManageUser(u identity.User) (bool, error) {
	if c.has() {
		return true, nil
	}
	if !c.userAdmin() {
		return false, nil
	}
	roles, err := c.h.dir.RolesOf(c.ctx, c.tenant, u.ID, transitiveGroupsOf(c, u.ID))
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if !strings.EqualFold(r, identity.RoleDirectoryReaders) {
			return false, nil
		}
	}
	return true, nil
}

func transitiveGroupsOf(c *call, id string) []string {
	gs, err := c.h.dir.TransitiveGroups(c.ctx, c.tenant, id)
	if err != nil {
		return nil
	}
	return gs
}

func (c *call) userRoutes(u identity.User, rest []string) error {
	if !c.reader() && !c.is(u.ID) {
		return denied()
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			return c.one(userType, userJSON(u), http.StatusOK)
		case http.MethodPatch:
			ok, err := c.mayManageUser(u)
			if err != nil {
				return err
			}
			if err := allow(ok); err != nil {
				return err
			}
			body, err := c.decode()
			if err != nil {
				return err
			}
			if err := c.applyUser(&u, body, false); err != nil {
				return err
			}
			if err := putUser(c, u); err != nil {
				return err
			}
			return c.noContent()
		case http.MethodDelete:
			ok, err := c.mayManageUser(u)
			if err != nil {
				return err
			}
			if err := allow(ok && !c.is(u.ID)); err != nil {
				return err
			}
			if err := c.h.dir.DeleteUser(c.ctx, u); err != nil {
				return err
			}
			return c.noContent()
		}
		return methodNotAllowed(c.r)
	}
	if ok, err := c.userActions(u, rest); ok {
		return err
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	return c.memberFunctions(d, u.ID, rest)
}

// applyUser applies a user body; a password in passwordProfile is hashed
// with argon2id and never stored or echoed.
func (c *call) applyUser(u *identity.User, body map[string]json.RawMessage, create bool) error {
	if create {
		required := []string{"accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"}
		if local, err := c.localAccount(u, body); err != nil {
			return err
		} else if local {
			required = []string{"displayName", "passwordProfile"}
		}
		for _, req := range required {
			if _, ok := body[req]; !ok {
				return badRequest("Property '%s' is required when creating a user.", req)
			}
		}
	}
	if s, ok, err := str(body, "displayName"); err != nil {
		return err
	} else if ok {
		if strings.TrimSpace(s) == "" || len(s) > 256 {
			return badRequest("Invalid value specified for property 'displayName' of resource 'User'.")
		}
		u.DisplayName = s
	}
	if v, ok, err := boolean(body, "accountEnabled"); err != nil {
		return err
	} else if ok {
		u.AccountEnabled = v
	}
	if s, ok, err := str(body, "userPrincipalName"); err != nil {
		return err
	} else if ok && !strings.EqualFold(s, u.UserPrincipalName) {
		if err := c.checkUPN(s); err != nil {
			return err
		}
		u.UserPrincipalName = s
	}
	if s, ok, err := str(body, "mailNickname"); err != nil {
		return err
	} else if ok && (s == "" || len(s) > 64 || strings.ContainsAny(s, "@()\\[]\";:<>, ")) {
		return badRequest("Invalid value specified for property 'mailNickname' of resource 'User'.")
	}
	if raw, ok := body["passwordProfile"]; ok {
		var pp struct {
			Password                             *string `json:"password"`
			ForceChangePasswordNextSignIn        *bool   `json:"forceChangePasswordNextSignIn"`
			ForceChangePasswordNextSignInWithMfa *bool   `json:"forceChangePasswordNextSignInWithMfa"`
		}
		if err := json.Unmarshal(raw, &pp); err != nil {
			return badRequest("Invalid value for property 'passwordProfile'.")
		}
		if pp.Password == nil {
			if create {
				return badRequest("passwordProfile.password is required when creating a user.")
			}
		} else {
			if err := checkPassword(*pp.Password); err != nil {
				return err
			}
			hash, err := identity.HashPassword(c.h.id.Rand(), *pp.Password)
			if err != nil {
				return err
			}
			u.PasswordHash = hash
			if !create { // a reset password ends the user's sign-in sessions
				u.SignInSessionsValidFrom = c.h.id.Now().UTC()
			}
		}
	}
	if raw, ok := body["identities"]; ok {
		ids, err := c.identities(raw, u.UserPrincipalName)
		if err != nil {
			return err
		}
		if u.Properties == nil {
			u.Properties = identity.Properties{}
		}
		u.Properties["identities"] = ids
	}
	props, err := setProps("microsoft.graph.user", userProps, u.Properties, body,
		"displayName", "accountEnabled", "userPrincipalName", "passwordProfile", "passwordPolicies", "identities")
	if err != nil {
		return err
	}
	u.Properties = props
	return nil
}

// localAccount prepares the creation of a local account: a body whose
// identities have an emailAddress or userName sign-in name and no
// userPrincipalName (Graph's B2C example) gets what B2C gives it: the
// user principal name "{objectId}@{tenant's first domain}" (also added
// to identities), accountEnabled true unless given, and creationType
// LocalAccount. local reports whether it did.
func (c *call) localAccount(u *identity.User, body map[string]json.RawMessage) (bool, error) {
	raw, ok := body["identities"]
	if _, hasUPN := body["userPrincipalName"]; !ok || hasUPN {
		return false, nil
	}
	var ids []objectIdentity
	if json.Unmarshal(raw, &ids) != nil || !slices.ContainsFunc(ids, func(id objectIdentity) bool {
		return id.SignInType == "emailAddress" || id.SignInType == "userName"
	}) {
		return false, nil
	}
	t, err := c.h.dir.Tenant(c.ctx, c.tenant)
	if err != nil {
		return false, err
	}
	domain := t.ID
	if len(t.Domains) > 0 {
		domain = t.Domains[0]
	}
	u.ID = strings.ToLower(u.ID)
	u.UserPrincipalName = u.ID + "@" + domain
	if _, ok := body["accountEnabled"]; !ok {
		u.AccountEnabled = true
	}
	ids = append(ids, objectIdentity{SignInType: "userPrincipalName", Issuer: domain, IssuerAssignedID: u.UserPrincipalName})
	if body["identities"], err = json.Marshal(ids); err != nil {
		return false, err
	}
	if u.Properties == nil {
		u.Properties = identity.Properties{}
	}
	u.Properties["creationType"] = json.RawMessage(`"LocalAccount"`)
	return true, nil
}

// objectIdentity is one entry of a user's identities.
type objectIdentity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// identities checks a user's identities (the whole collection, which a
// PATCH replaces): emailAddress (an address) and userName (a letter or
// digit, then letters, digits, '-' or '_') are local sign-in names issued
// by one of the tenant's domains; federated entries are kept as given; a
// userPrincipalName entry must be the user's own (Steward does not rename
// a user through identities). issuerAssignedId has at most 64
// characters, issuer 512; an issuer and issuerAssignedId are unique.
func (c *call) identities(raw json.RawMessage, upn string) (json.RawMessage, error) {
	var ids []objectIdentity
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, badRequest("Invalid value for property 'identities': an array of objectIdentity is expected.")
	}
	if len(ids) > 20 {
		return nil, badRequest("A user has at most 20 identities.")
	}
	t, err := c.h.dir.Tenant(c.ctx, c.tenant)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id.SignInType == "" || id.IssuerAssignedID == "" || id.Issuer == "" {
			return nil, badRequest("Each identity needs signInType, issuer and issuerAssignedId.")
		}
		if len(id.IssuerAssignedID) > 64 || len(id.Issuer) > 512 {
			return nil, badRequest("The identity's issuerAssignedId has at most 64 characters and its issuer at most 512.")
		}
		switch {
		case id.SignInType == "emailAddress" || id.SignInType == "userName":
			if len(t.Domains) > 0 && !containsFold(t.Domains, id.Issuer) {
				return nil, badRequest("The issuer '%s' of a local account identity must be one of the tenant's domains (%s).", id.Issuer, strings.Join(t.Domains, ", "))
			}
			if id.SignInType == "emailAddress" && !validSignInEmail(id.IssuerAssignedID) ||
				id.SignInType == "userName" && !validUserName(id.IssuerAssignedID) {
				return nil, badRequest("The issuerAssignedId '%s' is not a valid %s.", id.IssuerAssignedID, id.SignInType)
			}
		case id.SignInType == "userPrincipalName":
			if !strings.EqualFold(id.IssuerAssignedID, upn) {
				return nil, badRequest("A userPrincipalName identity must be the user's userPrincipalName; change userPrincipalName instead.")
			}
		case id.SignInType == "federated":
		default:
			return nil, badRequest("The signInType '%s' is not one of emailAddress, userName, federated, userPrincipalName.", id.SignInType)
		}
		k := strings.ToLower(id.Issuer + "\x00" + id.IssuerAssignedID)
		if id.SignInType == "emailAddress" || id.SignInType == "userName" {
			k = strings.ToLower("local\x00" + id.IssuerAssignedID) // one sign-in name per tenant
		}
		if seen[k] {
			return nil, badRequest("The identity '%s' appears twice.", id.IssuerAssignedID)
		}
		seen[k] = true
	}
	if ids == nil {
		ids = []objectIdentity{}
	}
	return json.Marshal(ids)
}

// validSignInEmail accepts local@domain.tld without spaces or angle
// brackets.
func validSignInEmail(v string) bool {
	local, domain, ok := strings.Cut(v, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.ContainsAny(v, " \t<>()[],;:\"\\") && strings.Count(v, "@") == 1
}

// validUserName accepts a letter or digit, then letters, digits, '-' or '_'.
func validUserName(v string) bool {
	for i, r := range v {
		alnum := r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && (i == 0 || r != '-' && r != '_') {
			return false
		}
	}
	return v != ""
}

// checkUPN requires alias@domain, unused in the tenant, and, when the
// tenant has domains, one of them.
func (c *call) checkUPN(upn string) error {
	alias, domain, ok := strings.Cut(upn, "@")
	if !ok || alias == "" || domain == "" || strings.ContainsAny(upn, " \"\\()<>,;:[]") || len(upn) > 113 || strings.Count(upn, "@") != 1 {
		return badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
	}
	t, err := c.h.dir.Tenant(c.ctx, c.tenant)
	if err != nil {
		return err
	}
	if len(t.Domains) > 0 && !containsFold(t.Domains, domain) {
		return badRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization (%s).", strings.Join(t.Domains, ", "))
	}
	if _, err := c.h.dir.UserByUPN(c.ctx, c.tenant, upn); err == nil {
		return badRequest("Another object with the same value for property userPrincipalName already exists.")
	} else if !errors.Is(err, identity.ErrNotFound) {
		return err
	}
	return nil
}

// checkPassword applies Entra's password complexity: 8 to 256
// characters with three of lower case, upper case, digits and symbols.
func checkPassword(p string) error {
	classes := 0
	var lower, upper, digit, other bool
	for _, r := range p {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if len(p) < 8 || len(p) > 256 || classes < 3 {
		return badRequest("The specified password does not comply with password complexity requirements. Please provide a different password (8 to 256 characters with three of: lower case, upper case, digits, symbols).")
	}
	return nil
}

func (c *call) createUser() error {
	if !c.userAdmin() {
		return denied()
	}
	body, err := c.decode()
	if err != nil {
		return err
	}
	u := identity.User{ID: c.h.id.NewID(), TenantID: c.tenant, Created: c.h.id.Now().UTC()}
	if err := c.applyUser(&u, body, true); err != nil {
		return err
	}
	if err := putUser(c, u); err != nil {
		return err
	}
	return c.one(userType, userJSON(u), http.StatusCreated)
}

// putUser writes a user from a request body; a sign-in name of another
// user is Graph's conflict on identities.
func putUser(c *call, u identity.User) error {
	err := c.h.dir.PutUser(c.ctx, u)
	if errors.Is(err, identity.ErrExists) {
		return badRequest("Another object with the same value for property identities already exists.")
	}
	return err
}
