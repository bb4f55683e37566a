package server

import (
	"context"

	"github.com/steward-gov/steward/internal/identity"
)

// IdentityMailService is the Service that gives the token service a mailer
// for the verification codes of self-service sign-up in B2C user flows
// (steward serve passes the alerts' SMTP server). Without it sign-up is
// off and its page says so.
func IdentityMailService(m identity.Mailer) Service {
	return func(_ context.Context, s *Steward) error {
		s.Identity.SetMailer(m)
		return nil
	}
}
