package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
)

// Call is one request in the pipeline, as a Handler sees it.
type Call struct {
	// Cloud is the Cloud serving the call.
	Cloud *Cloud
	// HTTP is the underlying request. Handlers read the body through Body
	// or Document, which enforce the size cap.
	HTTP   *http.Request
	Method string
	Target Target
	// APIVersion is the validated api-version.
	APIVersion string
	Query      url.Values
	Principal  identity.Principal
	// CorrelationID is x-ms-correlation-request-id (the client's, or a new
	// one), recorded in the activity log.
	CorrelationID string

	authorized bool
	body       []byte
	bodyErr    error
	bodyRead   bool
}

// Body returns the request body, read once and capped at the Cloud's
// MaxBodyBytes (413 beyond).
func (c *Call) Body() ([]byte, error) {
	if c.bodyRead {
		return c.body, c.bodyErr
	}
	c.bodyRead = true
	if c.HTTP.Body == nil {
		return nil, nil
	}
	max := c.Cloud.opts.MaxBodyBytes
	b, err := io.ReadAll(io.LimitReader(c.HTTP.Body, max+1))
	switch {
	case err != nil:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.bodyErr = tooLarge(max)
		} else {
			c.bodyErr = arm.BadRequest("InvalidRequestContent", "The request content could not be read.")
		}
	case int64(len(b)) > max:
		c.bodyErr = tooLarge(max)
	default:
		c.body = b
	}
	return c.body, c.bodyErr
}

func tooLarge(max int64) *arm.Error {
	return arm.Errorf(http.StatusRequestEntityTooLarge, "RequestContentTooLarge",
		"The request content size exceeds the maximum size of %d bytes.", max)
}

// Decode reads the body as JSON into v. An empty body or malformed JSON is
// a 400 InvalidRequestContent.
func (c *Call) Decode(v any) error {
	b, err := c.Body()
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'the request body is empty'.")
	}
	if err := decodeJSON(b, v); err != nil {
		return arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: '%s'.", jsonErrText(err))
	}
	return nil
}

// Document reads the body as a JSON object (numbers kept as json.Number).
func (c *Call) Document() (map[string]any, error) {
	var doc map[string]any
	if err := c.Decode(&doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'expected a JSON object'.")
	}
	return doc, nil
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// jsonErrText describes a decoding error without echoing the input.
func jsonErrText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("unexpected %s at offset %d", te.Value, te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of JSON input"
	}
	return "invalid JSON"
}

// Authorize checks that the caller may perform action (such as
// "Microsoft.Resources/subscriptions/resourceGroups/write") at scope, and
// returns 403 AuthorizationFailed when not.
func (c *Call) Authorize(ctx context.Context, action, scope string) error {
	return c.AuthorizeRequest(ctx, rbac.Request{Action: action, Scope: scope})
}

// AuthorizeRequest is Authorize with the full request, for checks that
// carry condition attributes (role-assignment writes). The principal and
// its groups are filled in from the call.
func (c *Call) AuthorizeRequest(ctx context.Context, req rbac.Request) error {
	c.authorized = true
	if !c.Cloud.Allowed(ctx, c.Principal, req) {
		return authorizationFailed(c.Principal, req.Action, req.Scope)
	}
	return nil
}

// Allowed reports whether the principal may perform req's action at its
// scope; a malformed request is not allowed.
func (c *Cloud) Allowed(ctx context.Context, p identity.Principal, req rbac.Request) bool {
	req.PrincipalID = p.ObjectID
	req.Groups = p.Groups
	if req.PrincipalID == "" {
		return false
	}
	d, err := c.Engine().Check(ctx, req)
	return err == nil && d.Allowed
}

// authorizationFailed is ARM's 403 for a refused action, in its exact
// message format. ARM names a service principal by its object ID in both
// places (docs/decisions/cloud.md); Steward's tokens carry no UPN, so users
// are named the same way.
func authorizationFailed(p identity.Principal, action, scope string) *arm.Error {
	return arm.Errorf(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		p.ObjectID, p.ObjectID, action, scope)
}

// caller is how the activity log names the principal.
func caller(p identity.Principal) string {
	if p.IdentityType == "app" && p.AppID != "" {
		return p.AppID
	}
	return p.ObjectID
}

// defaultAction is the action a method implies on the target.
func defaultAction(method string, t Target) string {
	switch {
	case t.Action != "":
		return t.Type + "/" + t.Action + "/action"
	case method == http.MethodGet || method == http.MethodHead:
		return t.Type + "/read"
	case method == http.MethodDelete:
		return t.Type + "/delete"
	}
	return t.Type + "/write"
}

// baseURL is the scheme and host the client reached, for Location headers
// and nextLinks. A Host header that is not a valid host is not reflected:
// the configured public URL stands in for it.
func (c *Call) baseURL() string {
	scheme := "https"
	if c.HTTP.TLS == nil && !strings.EqualFold(c.HTTP.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "http"
	}
	host := c.HTTP.Host
	if host == "" {
		host = c.HTTP.URL.Host
	}
	if !arm.ValidHost(host) {
		if c.Cloud != nil && c.Cloud.opts.PublicURL != "" {
			return strings.TrimSuffix(c.Cloud.opts.PublicURL, "/")
		}
		host = "localhost"
	}
	return scheme + "://" + host
}
