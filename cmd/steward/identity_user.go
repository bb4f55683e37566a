package main

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

// userSignInCmds are the sign-in administration commands of
// "steward identity user": password reset, session revocation and the
// authenticator app (TOTP) enrolment, all through Microsoft Graph.
func userSignInCmds() []*cobra.Command {
	reset := leaf("reset-password ID|UPN", "Set a user's password; the user's sign-in sessions and refresh tokens end",
		`  steward identity user reset-password ann@contoso.test --password 'N3w-Horse-Battery'`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			pw, _ := cmd.Flags().GetString("password")
			if pw == "" {
				return &exitError{code: 2, msg: "--password is required"}
			}
			body := map[string]any{"passwordProfile": map[string]any{"password": pw, "forceChangePasswordNextSignIn": false}}
			return g.do(cmd.Context(), http.MethodPatch, "/users/"+url.PathEscape(a[0]), body, nil)
		})
	reset.Flags().String("password", "", "the new password (required; 8+ characters of three kinds)")
	revoke := leaf("revoke-sessions ID|UPN", "End a user's sign-in sessions and refresh tokens",
		"  steward identity user revoke-sessions ann@contoso.test",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			return g.do(cmd.Context(), http.MethodPost, "/users/"+url.PathEscape(a[0])+"/revokeSignInSessions", nil, nil)
		})
	mfa := &cobra.Command{Use: "mfa", Short: "Manage a user's second factors: authenticator apps (TOTP) and security keys"}
	methods := func(upn string) string {
		return "/users/" + url.PathEscape(upn) + "/authentication/softwareOathMethods"
	}
	keys := func(upn string) string {
		return "/users/" + url.PathEscape(upn) + "/authentication/fido2Methods"
	}
	// secondFactors lists the user's apps and security keys, each with
	// the Graph collection it is in.
	secondFactors := func(cmd *cobra.Command, g *graphClient, upn string) ([]map[string]any, []string, error) {
		var objs []map[string]any
		var paths []string
		for _, p := range []string{methods(upn), keys(upn)} {
			list, err := g.list(cmd.Context(), p)
			if err != nil {
				return nil, nil, err
			}
			for _, o := range list {
				objs = append(objs, o)
				paths = append(paths, p)
			}
		}
		return objs, paths, nil
	}
	enroll := leaf("enroll ID|UPN", "Enrol an authenticator app for a user: prints the key, its otpauth URI and the recovery codes once",
		"  steward identity user mfa enroll ann@contoso.test -o json",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			var out map[string]any
			if err := g.do(cmd.Context(), http.MethodPost, methods(a[0]), map[string]any{}, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, "secretKey", "otpauthUri", "recoveryCodes")
		})
	show := leaf("show ID|UPN", "Show a user's second factors: authenticator apps and security keys (users add them on the security-info page)",
		"  steward identity user mfa show ann@contoso.test",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			objs, _, err := secondFactors(cmd, g, a[0])
			if err != nil {
				return err
			}
			return printObjects(cmd, f, objs, false, "id", "@odata.type")
		})
	resetMFA := leaf("reset ID|UPN", "Remove a user's second factor (a lost phone or key); the user sets one up again at the next sign-in that needs it",
		"  steward identity user mfa reset ann@contoso.test",
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			objs, paths, err := secondFactors(cmd, g, a[0])
			if err != nil {
				return err
			}
			if len(objs) == 0 {
				return &exitError{code: 1, msg: a[0] + " has no second factor"}
			}
			for i, o := range objs {
				id, _ := o["id"].(string)
				if err := g.do(cmd.Context(), http.MethodDelete, paths[i]+"/"+url.PathEscape(id), nil, nil); err != nil {
					return err
				}
			}
			return nil
		})
	mfa.AddCommand(enroll, show, resetMFA)
	return []*cobra.Command{reset, revoke, mfa}
}

// "steward user" is "steward identity user" at the top level: people are
// what an operator manages most, so the short path is the one in the
// console's documentation.
func init() {
	register(func() *cobra.Command {
		c := newIdentityUserCmd()
		c.Short = "Manage people: users, passwords, sign-in sessions and authenticator apps (same as steward identity user)"
		var retitle func(*cobra.Command)
		retitle = func(c *cobra.Command) {
			c.Example = strings.ReplaceAll(c.Example, "steward identity user", "steward user")
			for _, sub := range c.Commands() {
				retitle(sub)
			}
		}
		retitle(c)
		return c
	})
}
