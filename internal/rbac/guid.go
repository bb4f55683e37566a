package rbac

import (
	"strings"

	"github.com/steward-gov/steward/internal/rbac/abac"
)

// canonicalGUID formats a GUID as lower-case 8-4-4-4-12 hex. ok is false
// when s is not a GUID in any of the spellings Azure uses (dashed,
// undashed, braced).
func canonicalGUID(s string) (string, bool) {
	h, ok := abac.NormalizeGUID(s)
	if !ok {
		return "", false
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], true
}

// roleGUID extracts the role definition GUID from a role definition ID
// ("/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
// its scopeless form, or a bare GUID).
func roleGUID(id string) (string, bool) {
	id = strings.TrimRight(id, "/")
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	return canonicalGUID(id)
}

// principalKey normalises a principal object ID for indexing: GUIDs in
// canonical form, anything else lower-cased.
func principalKey(id string) string {
	if isCanonicalGUID(id) {
		return id // the common case: no allocation on the check path
	}
	if g, ok := canonicalGUID(id); ok {
		return g
	}
	return strings.ToLower(strings.TrimSpace(id))
}

// everyone is the principal ID deny assignments use for "all principals".
const everyone = "00000000-0000-0000-0000-000000000000"

// isCanonicalGUID reports whether s is already lower-case 8-4-4-4-12 hex.
func isCanonicalGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
