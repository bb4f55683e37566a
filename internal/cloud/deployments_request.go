package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/template"
)

// deploymentRequest is the body of a deployment PUT, validate or whatIf.
type deploymentRequest struct {
	Location     string
	Tags         map[string]any
	Template     map[string]any
	TemplateLink map[string]any
	// TemplateSpecID is templateLink.id, a template spec version whose
	// mainTemplate is the template (then Template is set from it).
	TemplateSpecID string
	Parameters     map[string]any
	Mode           string
	ResultFormat   string
}

// SecretResolver returns a Key Vault secret for a deployment parameter
// file's reference: vaultID is the vault's resource ID. The server wires
// Steward's vault here; cloud cannot import it.
type SecretResolver func(ctx context.Context, vaultID, name, version string) (string, error)

// SetSecretResolver installs the resolver of Key Vault parameter
// references (nil refuses them).
func (c *Cloud) SetSecretResolver(r SecretResolver) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	c.secrets = r
}

func (c *Cloud) secretResolver() SecretResolver {
	c.hooksMu.RLock()
	defer c.hooksMu.RUnlock()
	return c.secrets
}

func (c *Cloud) parseDeploymentRequest(call *Call, scopeKind string) (*deploymentRequest, error) {
	raw, err := call.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := decodeJSON(raw, &body); err != nil {
		// ARM reads deployment requests leniently: az 2.45 sends the
		// template as `template:{...}` with the file's comments.
		if err := decodeJSON(template.StandardJSON(raw), &body); err != nil {
			return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: '%s'.", jsonErrText(err))
		}
	}
	if body == nil {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'expected a JSON object'.")
	}
	req := &deploymentRequest{}
	if l, ok := lookupFold(body, "location"); ok {
		req.Location, _ = l.(string)
	}
	if t, ok := lookupFold(body, "tags"); ok && t != nil {
		tags, err := validateTags(t)
		if err != nil {
			return nil, err
		}
		req.Tags = tags
	}
	pv, _ := lookupFold(body, "properties")
	props, ok := pv.(map[string]any)
	if !ok {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON.'.")
	}
	if tv, ok := lookupFold(props, "template"); ok && tv != nil {
		if req.Template, ok = tv.(map[string]any); !ok {
			return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.template must be an object'.")
		}
	}
	if lv, ok := lookupFold(props, "templateLink"); ok && lv != nil {
		req.TemplateLink, _ = lv.(map[string]any)
		if req.Template == nil {
			id, _ := lookupFold(req.TemplateLink, "id")
			req.TemplateSpecID, _ = id.(string)
			if req.TemplateSpecID == "" {
				// Steward sends no traffic outside: a template is given
				// inline or as a template spec version stored here.
				uri, _ := lookupFold(req.TemplateLink, "uri")
				return nil, arm.BadRequest("InvalidContentLink", "Unable to download deployment content from '%v': Steward reaches no external URI. Send the template in properties.template, or publish it as a template spec and link it by templateLink.id.", uri)
			}
		}
	}
	if req.Template == nil && req.TemplateSpecID == "" {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.template or properties.templateLink is required'.")
	}
	if _, ok := lookupFold(props, "parametersLink"); ok {
		return nil, arm.BadRequest("InvalidContentLink", "Unable to download deployment parameters from parametersLink: Steward reaches no external URI. Send them in properties.parameters.")
	}
	if pv, ok := lookupFold(props, "parameters"); ok && pv != nil {
		if req.Parameters, ok = pv.(map[string]any); !ok {
			return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.parameters must be an object'.")
		}
	}
	mode, _ := lookupFold(props, "mode")
	req.Mode, _ = mode.(string)
	switch strings.ToLower(req.Mode) {
	case "incremental":
		req.Mode = "Incremental"
	case "complete":
		req.Mode = "Complete"
		if scopeKind != "resourceGroup" {
			return nil, arm.BadRequest("InvalidDeploymentMode", "The deployment mode 'Complete' is only supported for deployments at resource group scope.")
		}
	case "":
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Required property 'mode' not found in JSON.'.")
	default:
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Error converting value \"%s\" to type 'DeploymentMode'.'.", truncate(req.Mode, 40))
	}
	if wo, ok := lookupFold(props, "whatIfSettings"); ok {
		wm, _ := wo.(map[string]any)
		rf, _ := lookupFold(wm, "resultFormat")
		req.ResultFormat, _ = rf.(string)
	}
	if scopeKind != "resourceGroup" && req.Location == "" {
		return nil, arm.BadRequest("LocationRequired", "The location property is required for this definition.")
	}
	return req, nil
}

// templateScope is the template.Scope of a deployment's scope, with the
// resource group's location and tags.
func (c *Cloud) templateScope(ctx context.Context, scopeID string, req *deploymentRequest) (template.Scope, error) {
	r, err := arm.ParseResourceID(scopeID)
	if err != nil {
		return template.Scope{}, badURI(scopeID)
	}
	if err := c.RequireScope(ctx, r); err != nil {
		return template.Scope{}, err
	}
	s := template.Scope{TenantID: c.TenantID(), ManagementGroup: r.ManagementGroup, SubscriptionID: r.SubscriptionID,
		ResourceGroup: r.ResourceGroup, Location: NormalizeLocation(req.Location)}
	if r.ResourceGroup != "" {
		rg, err := c.Get(ctx, scopeID)
		if err == nil {
			s.Location, _ = rg.Doc["location"].(string)
			s.ResourceGroupTags, _ = rg.Doc["tags"].(map[string]any)
			if n, _ := rg.Doc["name"].(string); n != "" {
				s.ResourceGroup = n
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return template.Scope{}, storeError(err)
		}
	}
	if r.SubscriptionID != "" {
		if sub, err := c.Get(ctx, "/subscriptions/"+r.SubscriptionID); err == nil {
			s.SubscriptionName, _ = sub.Doc["displayName"].(string)
		}
	}
	return s, nil
}

// templateError turns an expansion error into ARM's 400 InvalidTemplate
// (or the code the engine gave).
func templateError(err error) *arm.Error {
	var te *template.Error
	if errors.As(err, &te) {
		e := arm.BadRequest(te.Code, "%s", te.Error())
		if te.Line > 0 {
			e.AdditionalInfo = []arm.AdditionalInfo{{Type: "TemplateViolation", Info: map[string]any{"lineNumber": te.Line, "linePosition": te.Column, "path": te.Path}}}
		}
		return e
	}
	var ae *arm.Error
	if errors.As(err, &ae) {
		return ae
	}
	return arm.ErrInternal
}

// statusWord is how deployment operations spell an HTTP status.
func statusWord(status int) string {
	switch status {
	case http.StatusOK:
		return "OK"
	case http.StatusCreated:
		return "Created"
	case http.StatusAccepted:
		return "Accepted"
	case http.StatusNoContent:
		return "NoContent"
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	}
	return "InternalServerError"
}
