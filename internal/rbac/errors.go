package rbac

import (
	"net/http"

	"github.com/steward-gov/steward/internal/arm"
)

// ARM error codes this package returns in *arm.Error values, so that the
// embedded ARM can send them unchanged. RoleDefinitionDoesNotExist (400) and
// RoleAssignmentExists (409) are the codes Azure uses; the others are
// Steward's, see docs/decisions/rbac.md.
const (
	CodeRoleDefinitionDoesNotExist = "RoleDefinitionDoesNotExist"
	CodeRoleAssignmentExists       = "RoleAssignmentExists"
	CodeInvalidRoleAssignment      = "InvalidRoleAssignment"
	CodeInvalidCondition           = "InvalidRoleAssignmentCondition"
	CodeInvalidRoleDefinition      = "InvalidRoleDefinition"
	CodeInvalidDenyAssignment      = "InvalidDenyAssignment"
	CodeRoleAssignmentNotFound     = "RoleAssignmentNotFound"
)

func badRequest(code, format string, args ...any) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, code, format, args...)
}
