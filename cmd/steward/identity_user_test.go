package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIdentityUserSignInCommands(t *testing.T) {
	dir, _ := serveCloud(t)
	run, must := cliOn(t, dir)
	must("user", "create", "cy@steward.test", "--display-name", "Cy", "--password", "Corr3ct-Horse!")
	if out := must("user", "list"); !strings.Contains(out, "cy@steward.test") {
		t.Errorf("user list:\n%s", out)
	}
	must("identity", "user", "reset-password", "cy@steward.test", "--password", "N3w-Horse-Battery")
	if _, err := run("identity", "user", "reset-password", "cy@steward.test"); exitCode(err) != 2 {
		t.Errorf("reset-password without --password: exit %d", exitCode(err))
	}
	must("identity", "user", "revoke-sessions", "cy@steward.test")
	var m map[string]any
	out := must("identity", "user", "mfa", "enroll", "cy@steward.test", "-o", "json")
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["secretKey"] == nil || !strings.HasPrefix(m["otpauthUri"].(string), "otpauth://totp/") {
		t.Fatalf("mfa enroll: %v %s", err, out)
	}
	if out := must("identity", "user", "mfa", "show", "cy@steward.test"); !strings.Contains(out, "softwareOathAuthenticationMethod") {
		t.Errorf("mfa show:\n%s", out)
	}
	if _, err := run("identity", "user", "mfa", "enroll", "cy@steward.test"); exitCode(err) == 0 {
		t.Error("a second enrolment succeeded")
	}
	must("identity", "user", "mfa", "reset", "cy@steward.test")
	if _, err := run("identity", "user", "mfa", "reset", "cy@steward.test"); exitCode(err) != 1 {
		t.Errorf("reset without an app: exit %d", exitCode(err))
	}
}
