package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/armexpr"
)

// MaxTemplateSize is Azure's limit on a template (4 MB); a larger file is
// refused rather than expanded.
const MaxTemplateSize = 4 << 20

// MaxResources caps the resources one expansion may produce (Azure allows
// 800 declared resources; copy loops multiply them). The cap keeps a
// runaway count() from exhausting memory.
const MaxResources = 50000

// Template is a parsed ARM template.
type Template struct {
	// Doc is the template with numbers normalised to int64 and float64.
	Doc map[string]any
	// File names the template in messages and SARIF ("" for a template
	// sent in a request).
	File string
	pos  map[string]Pos
}

// Parse reads a template from JSON text and indexes where its objects
// start, so that errors and findings point at lines.
func Parse(data []byte) (*Template, error) {
	if len(data) > MaxTemplateSize {
		return nil, templateErr("The template is larger than %d bytes.", MaxTemplateSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !json.Valid(data) {
		data = StandardJSON(data) // comments, bare names, trailing commas
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, templateErr("The template is not valid JSON: %s.", jsonError(data, err))
	}
	if doc == nil {
		return nil, templateErr("The template must be a JSON object.")
	}
	t := FromDocument(doc)
	t.pos = positions(data)
	return t, nil
}

// FromDocument wraps a template already decoded (a deployment request's
// properties.template).
func FromDocument(doc map[string]any) *Template {
	d, _ := armexpr.Normalize(doc).(map[string]any)
	return &Template{Doc: d}
}

// Position returns where the object at a JSON path starts in the template
// file, if the template was parsed from text.
func (t *Template) Position(path string) (Pos, bool) {
	p, ok := t.pos[path]
	return p, ok
}

func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	if ok := asSyntax(err, &se); ok {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("%s at line %d", se.Error(), line)
	}
	return err.Error()
}

func asSyntax(err error, se **json.SyntaxError) bool {
	s, ok := err.(*json.SyntaxError)
	if ok {
		*se = s
	}
	return ok
}

// Scope is where a deployment runs: a resource group, a subscription, a
// management group or the tenant.
type Scope struct {
	TenantID        string
	ManagementGroup string
	SubscriptionID  string
	ResourceGroup   string
	// Location is the resource group's location, or the deployment's
	// location at the other scopes.
	Location string
	// ResourceGroupTags are the resource group's tags (resourceGroup().tags).
	ResourceGroupTags map[string]any
	// SubscriptionName is subscription().displayName.
	SubscriptionName string
}

// Kind returns "resourceGroup", "subscription", "managementGroup" or
// "tenant".
func (s Scope) Kind() string {
	switch {
	case s.ResourceGroup != "":
		return "resourceGroup"
	case s.SubscriptionID != "":
		return "subscription"
	case s.ManagementGroup != "":
		return "managementGroup"
	}
	return "tenant"
}

// ID is the scope's resource ID.
func (s Scope) ID() string {
	switch s.Kind() {
	case "resourceGroup":
		return "/subscriptions/" + s.SubscriptionID + "/resourceGroups/" + s.ResourceGroup
	case "subscription":
		return "/subscriptions/" + s.SubscriptionID
	case "managementGroup":
		return "/providers/Microsoft.Management/managementGroups/" + s.ManagementGroup
	}
	return ""
}

// Options are an expansion's inputs besides the template.
type Options struct {
	Scope Scope
	// DeploymentName is deployment().name.
	DeploymentName string
	// Parameters are the parameter values: {"name": value} or the
	// parameter file form {"name": {"value": v}} or {"name": {"reference":
	// {...}}} for a Key Vault secret.
	Parameters map[string]any
	// Mode is the deployment mode, for deployment().properties.mode.
	Mode string
	// TemplateLink is deployment().properties.templateLink, when the
	// template came from a link.
	TemplateLink map[string]any
	// Now is what utcNow() sees in parameter defaults (default: now).
	Now func() time.Time
	// NewGUID is newGuid() in parameter defaults.
	NewGUID func() string
	// Write, when set, is called for every resource that is deployed, in
	// dependency order, once its body is evaluated; it returns the
	// resource's state as stored (reference() then reads it). An error
	// stops the expansion and is returned as is.
	Write func(r *Resource) (map[string]any, error)
	// State reads a resource outside the template (existing resources,
	// reference to an ID the template does not deploy); found=false when
	// there is none. Nil means offline: such values are deferred.
	State func(id, apiVersion string) (doc map[string]any, found bool, err error)
	// List calls a list* action (listKeys) on a resource. Nil means
	// offline: the value is deferred.
	List func(id, apiVersion, action string, body any) (any, error)
	// Link returns the template a templateLink names by relativePath,
	// relative to the template that links it (from is its File).
	Link func(from, relativePath string) (*Template, error)
	// KeyVault returns a secret for a parameter file's Key Vault
	// reference; nil refuses such references.
	KeyVault func(vaultID, secretName, secretVersion string) (string, error)
	// Environment is environment(); nil uses AzureCloud's values.
	Environment map[string]any
}

// Resource is one resource a template deploys (or, with Existing, only
// reads).
type Resource struct {
	// Symbolic is the resource's symbolic name (languageVersion 2.0).
	Symbolic string
	ID       string
	Type     string
	// Name is the full name ("vnet/subnet" for a child).
	Name       string
	APIVersion string
	// Body is the document to PUT: name, location, tags, sku, kind,
	// properties, identity, zones, ... (no template keywords).
	Body map[string]any
	// DependsOn are the IDs of the resources this one waits for.
	DependsOn []string
	// Existing resources are read, not deployed.
	Existing bool
	// Path is the resource's JSON path in its template file and Pos where
	// it starts; File names that file ("" for the main template when it
	// was sent inline).
	Path string
	Pos  Pos
	File string
	// CopyName and CopyIndex identify a copy loop's instance.
	CopyName  string
	CopyIndex int
	// Deployment is the name of the (nested) deployment the resource
	// belongs to; Nested is set on a Microsoft.Resources/deployments
	// resource whose template was expanded in line (its children come
	// before it, and Outputs holds its outputs).
	Deployment string
	Nested     bool
	Outputs    map[string]any
	// Scope is the scope the resource's deployment targets.
	Scope Scope
}

// Result is an expansion's outcome.
type Result struct {
	// Resources are the deployed resources in the order they were
	// written (dependencies first), nested deployments' resources
	// included. Existing resources are not listed.
	Resources []*Resource
	// Existing are the IDs of the resources declared existing (read,
	// not deployed).
	Existing []string
	// Outputs are the template's outputs: {"name": {"type", "value"}}.
	Outputs map[string]any
	// Parameters are the parameter values bound ({"name": {"type",
	// "value"}}), secure values left out as Azure does.
	Parameters map[string]any
	// ContentVersion and Hash describe the template.
	ContentVersion string
}

// keyFold looks a key up case-insensitively.
func keyFold(m map[string]any, k string) (any, bool) { return armexpr.Lookup(m, k) }

func stringFold(m map[string]any, k string) string {
	v, _ := keyFold(m, k)
	s, _ := v.(string)
	return s
}

func lower(s string) string { return strings.ToLower(s) }
