package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A user flow's user attribute assignments (Graph beta's
// identityUserFlowAttributeAssignment): the built-in attributes its
// sign-up page collects, each required or optional, stored on the new
// user, or its profile edit page shows and updates. Steward serves the built-in attributes below as text boxes;
// custom (extension_) attributes, other input types and verification are
// refused.

// UserFlowAttribute is one of a flow's userAttributeAssignments; its ID
// is the attribute's (givenName, city, ...).
type UserFlowAttribute struct {
	ID                   string `json:"id"`
	DisplayName          string `json:"displayName"`
	IsOptional           bool   `json:"isOptional"`
	RequiresVerification bool   `json:"requiresVerification"`
	UserInputType        string `json:"userInputType"`
}

// builtInAttribute is a built-in user attribute a sign-up page collects:
// its display name, the longest value Graph's user takes, and the
// browser's autocomplete hint.
type builtInAttribute struct {
	id, name     string
	max          int
	autocomplete string
}

var builtInAttributes = []builtInAttribute{
	{"displayName", "Display Name", 256, "name"},
	{"givenName", "Given Name", 64, "given-name"},
	{"surname", "Surname", 64, "family-name"},
	{"jobTitle", "Job Title", 128, "organization-title"},
	{"streetAddress", "Street Address", 1024, "street-address"},
	{"city", "City", 128, "address-level2"},
	{"state", "State/Province", 128, "address-level1"},
	{"postalCode", "Postal Code", 40, "postal-code"},
	{"country", "Country/Region", 128, "country-name"},
}

// attributeValue is the user's value of a built-in attribute, "" when
// the user has none.
func attributeValue(u User, id string) string {
	if id == "displayName" {
		return u.DisplayName
	}
	return userString(u, id)
}

// setAttribute sets (or, for "", removes) the user's value of a built-in
// attribute; a user keeps a display name (Graph requires one).
func setAttribute(u *User, id, v string) {
	switch {
	case id == "displayName":
		if v != "" {
			u.DisplayName = v
		}
	case v == "":
		delete(u.Properties, id)
	default:
		if u.Properties == nil {
			u.Properties = Properties{}
		}
		b, _ := json.Marshal(v)
		u.Properties[id] = b
	}
}

func builtIn(id string) (builtInAttribute, bool) {
	i := slices.IndexFunc(builtInAttributes, func(a builtInAttribute) bool { return strings.EqualFold(a.id, id) })
	if i < 0 {
		return builtInAttribute{}, false
	}
	return builtInAttributes[i], true
}

// attributeTextBox is the one userInputType Steward's sign-up page draws.
const attributeTextBox = "textBox"

// defaultFlowAttributes are a new flow's assignments (and those of a
// flow stored before flows had any): what the sign-up page always
// collected, a required display name and an optional given name and
// surname.
func defaultFlowAttributes() []UserFlowAttribute {
	return []UserFlowAttribute{
		{ID: "displayName", DisplayName: "Display Name", UserInputType: attributeTextBox},
		{ID: "givenName", DisplayName: "Given Name", IsOptional: true, UserInputType: attributeTextBox},
		{ID: "surname", DisplayName: "Surname", IsOptional: true, UserInputType: attributeTextBox},
	}
}

// UserAttributes returns the flow's attribute assignments (none for a
// flow without a sign-up or profile edit page).
func (f *UserFlow) UserAttributes() []UserFlowAttribute {
	if !f.collectsAttributes() {
		return nil
	}
	if f.Attributes == nil {
		return defaultFlowAttributes()
	}
	return f.Attributes
}

// collectsAttributes reports whether the flow type has a page that
// collects attributes: sign-up, or profile edit.
func (f *UserFlow) collectsAttributes() bool {
	return f.signsUp() || f != nil && f.UserFlowType == UserFlowProfileUpdate
}

// AddUserFlowAttribute assigns a built-in attribute to a sign-up or
// profile edit flow.
// It fails with ErrNotFound for an unknown flow, ErrExists when the
// attribute is assigned already, and ErrInvalidUserFlow (saying why) for
// an attribute Steward does not collect.
func (s *Service) AddUserFlowAttribute(ctx context.Context, tenantID, flowID string, a UserFlowAttribute) (UserFlowAttribute, error) {
	f, err := s.dir.UserFlow(ctx, tenantID, flowID)
	if err != nil {
		return UserFlowAttribute{}, err
	}
	if !f.collectsAttributes() {
		return UserFlowAttribute{}, fmt.Errorf("%w: the %s flow %s has no page that collects attributes; only signUp, signUpOrSignIn and profileUpdate flows take userAttributeAssignments",
			ErrInvalidUserFlow, f.UserFlowType, f.ID)
	}
	b, ok := builtIn(a.ID)
	switch {
	case a.ID == "":
		return UserFlowAttribute{}, fmt.Errorf("%w: userAttribute.id is required", ErrInvalidUserFlow)
	case !ok:
		return UserFlowAttribute{}, fmt.Errorf("%w: the attribute %q is not one Steward collects (built-in: displayName, givenName, surname, jobTitle, streetAddress, city, state, postalCode, country)",
			ErrInvalidUserFlow, clip(a.ID))
	case a.RequiresVerification:
		return UserFlowAttribute{}, fmt.Errorf("%w: requiresVerification applies to email addresses and phone numbers only", ErrInvalidUserFlow)
	case a.UserInputType != "" && !strings.EqualFold(a.UserInputType, attributeTextBox):
		return UserFlowAttribute{}, fmt.Errorf("%w: userInputType %q is not served; Steward's sign-up page has text boxes only (textBox)", ErrInvalidUserFlow, clip(a.UserInputType))
	case len(a.DisplayName) > 256:
		return UserFlowAttribute{}, fmt.Errorf("%w: displayName has at most 256 characters", ErrInvalidUserFlow)
	}
	a.ID, a.UserInputType = b.id, attributeTextBox
	if strings.TrimSpace(a.DisplayName) == "" {
		a.DisplayName = b.name
	}
	attrs := f.UserAttributes()
	if slices.ContainsFunc(attrs, func(x UserFlowAttribute) bool { return x.ID == a.ID }) {
		return UserFlowAttribute{}, ErrExists
	}
	f.Attributes = append(slices.Clone(attrs), a)
	return a, s.dir.putUserFlow(ctx, f)
}

// RemoveUserFlowAttribute takes an attribute off a flow (ErrNotFound
// when the flow or the assignment is absent).
func (s *Service) RemoveUserFlowAttribute(ctx context.Context, tenantID, flowID, id string) error {
	f, err := s.dir.UserFlow(ctx, tenantID, flowID)
	if err != nil {
		return err
	}
	attrs := f.UserAttributes()
	kept := slices.DeleteFunc(slices.Clone(attrs), func(x UserFlowAttribute) bool { return strings.EqualFold(x.ID, id) })
	if len(kept) == len(attrs) {
		return ErrNotFound
	}
	f.Attributes = kept
	return s.dir.putUserFlow(ctx, f)
}

func (d *Directory) putUserFlow(ctx context.Context, f UserFlow) error {
	if f.Attributes == nil {
		f.Attributes = []UserFlowAttribute{}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return d.recs.Put(ctx, tableUserFlows, tkey(f.TenantID, f.ID), b)
}

// signUpField is one attribute's text box on the sign-up page.
type signUpField struct {
	ID, Label, Value, Autocomplete string
	Required                       bool
	Max                            int
}

// signUpFields are the flow's attributes as text boxes (of the sign-up
// or profile edit page), with the values typed so far.
func signUpFields(f *UserFlow, values map[string]string) []signUpField {
	if f == nil {
		return nil
	}
	var out []signUpField
	for _, a := range f.UserAttributes() {
		b, ok := builtIn(a.ID)
		if !ok {
			continue
		}
		out = append(out, signUpField{ID: b.id, Label: a.DisplayName, Value: values[b.id], Autocomplete: b.autocomplete,
			Required: !a.IsOptional, Max: b.max})
	}
	return out
}

// checkFields returns the page's message for the first field whose value
// is missing (a required one) or too long, "" when all are good.
func checkFields(fields []signUpField) string {
	for _, fd := range fields {
		switch {
		case fd.Required && fd.Value == "":
			return fd.Label + ": this information is required."
		case utf8.RuneCountInString(fd.Value) > fd.Max || strings.ContainsFunc(fd.Value, unicode.IsControl):
			return fmt.Sprintf("%s: at most %d characters, without control characters.", fd.Label, fd.Max)
		}
	}
	return ""
}
