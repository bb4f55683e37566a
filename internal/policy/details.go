package policy

import (
	"regexp"
	"strings"
)

// isoDuration matches the ISO 8601 durations evaluationDelay accepts
// (PT10M, PT1H30M, ...).
var isoDuration = regexp.MustCompile(`(?i)^PT(?:\d+H)?(?:\d+M)?(?:\d+S)?$`)

// checkDetails validates the literal (non-expression) parts of effect
// details that Azure documents a fixed vocabulary for: conflictEffect,
// existenceScope, deploymentScope and evaluationDelay
// (effect-modify.md, effect-audit-if-not-exists.md,
// effect-deploy-if-not-exists.md). Values given by expressions are not
// checked.
func checkDetails(dm map[string]any, path string) error {
	for k, v := range dm {
		s, ok := v.(string)
		if !ok || isExpression(s) {
			continue
		}
		p := path + "." + k
		switch strings.ToLower(k) {
		case "conflicteffect":
			switch strings.ToLower(s) {
			case "audit", "deny", "disabled":
			default:
				return cerr(p, "conflictEffect must be audit, deny or disabled, got %q", s)
			}
		case "existencescope", "deploymentscope":
			switch strings.ToLower(s) {
			case "resourcegroup", "subscription":
			default:
				return cerr(p, "%s must be ResourceGroup or Subscription, got %q", k, s)
			}
		case "evaluationdelay":
			switch strings.ToLower(s) {
			case "afterprovisioning", "afterprovisioningsuccess", "afterprovisioningfailure":
			default:
				if !isoDuration.MatchString(s) || strings.EqualFold(s, "PT") {
					return cerr(p, "evaluationDelay must be AfterProvisioning, AfterProvisioningSuccess, AfterProvisioningFailure or an ISO 8601 duration, got %q", s)
				}
			}
		}
	}
	return nil
}
