package cloud

import (
	"context"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

// Operation is what a request does to a resource.
type Operation string

// The operations of the pipeline.
const (
	OpWrite  Operation = "write"
	OpDelete Operation = "delete"
	OpAction Operation = "action"
)

// PutHook validates and completes the document of a PUT or PATCH of one
// resource type before the policy hook sees it: it may change doc in place
// (assign a workspace customerId, a vault's vaultUri) or refuse the write by
// returning an *arm.Error (a 4xx). existing is the stored document, nil on
// create. It is a plain function type so that packages can provide hooks
// without importing cloud.
type PutHook func(ctx context.Context, id string, doc, existing map[string]any) error

// DeleteHook reacts to the deletion of a resource of one type, after the
// delete committed (a resource group's deletion calls it for every resource
// it held). Errors cannot undo the delete; the hook logs its own.
type DeleteHook func(ctx context.Context, id string, doc map[string]any)

// PolicyRequest is what the policy hook decides on.
type PolicyRequest struct {
	Operation Operation
	// ID and Type name the resource; Type is the full resource type.
	ID, Type string
	// APIVersion is the request's api-version.
	APIVersion string
	// Document is the resource as it will be stored (for writes) or as it
	// is stored (for deletes). The hook may modify it (append, modify).
	Document map[string]any
	// Existing is the stored document before a write, nil on create.
	Existing  map[string]any
	Principal identity.Principal
}

// PolicyHook is consulted for every write before it is persisted. It may
// change req.Document, or refuse the request with an *arm.Error (such as 403
// RequestDisallowedByPolicy). Any other error is an internal error.
type PolicyHook interface {
	BeforeWrite(ctx context.Context, req *PolicyRequest) error
}

// PolicyHookFunc adapts a function to PolicyHook.
type PolicyHookFunc func(ctx context.Context, req *PolicyRequest) error

// BeforeWrite implements PolicyHook.
func (f PolicyHookFunc) BeforeWrite(ctx context.Context, req *PolicyRequest) error {
	return f(ctx, req)
}

// Change is a committed write, as the compliance hook receives it.
type Change struct {
	Operation Operation
	ID, Type  string
	// Document is the stored resource after a write, or the deleted one.
	Document map[string]any
	// Previous is the document before a write, nil on create.
	Previous      map[string]any
	CorrelationID string
	Time          time.Time
}

// ComplianceHook is told about every committed write and delete, after
// commit, so that compliance is re-evaluated for the resource. It runs on
// the request's goroutine and should hand long work to the background.
type ComplianceHook interface {
	AfterCommit(ctx context.Context, ch Change)
}

// ComplianceHookFunc adapts a function to ComplianceHook.
type ComplianceHookFunc func(ctx context.Context, ch Change)

// AfterCommit implements ComplianceHook.
func (f ComplianceHookFunc) AfterCommit(ctx context.Context, ch Change) { f(ctx, ch) }
