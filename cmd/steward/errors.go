package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// The exit statuses of every steward command. They are documented in the
// root command's help (exitCodeHelp) and are the only ones main uses.
const (
	exitOK          = 0 // the command did what was asked
	exitNo          = 1 // the answer is "no": not found, denied, non-compliant, a failing test
	exitUsage       = 2 // usage or input error: a bad flag, an unreadable file, a request the server calls malformed
	exitUnreachable = 3 // the server cannot be reached
)

// exitCodeHelp is the exit-status table shown in `steward --help`.
const exitCodeHelp = `Exit status:
  0  success
  1  the answer is "no": not found, denied or refused, non-compliant, a failing test
  2  usage or input error: unknown command or flag, a file that is missing or does
     not parse, a request the server rejects as malformed (HTTP 400)
  3  cannot reach the server: start it with "steward serve"`

// exitError ends the program with a chosen status and message, for
// commands whose exit status carries meaning (a failing test run, a
// non-compliant scan) and for errors already rendered for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// usageError is an exit-2 error with a message.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: "error: " + fmt.Sprintf(format, args...)}
}

// notFoundError is an exit-1 error with a message.
func notFoundError(format string, args ...any) error {
	return &exitError{code: exitNo, msg: "error: " + fmt.Sprintf(format, args...)}
}

// renderError is the one place an error becomes what the user sees and the
// exit status: it writes the message to w and returns the status.
func renderError(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	msg, code := classifyError(err)
	if msg != "" {
		fmt.Fprintln(w, msg)
	}
	return code
}

// classifyError turns any error a command returns into a message and an
// exit status, following the table in exitCodeHelp.
func classifyError(err error) (string, int) {
	if err == nil {
		return "", exitOK
	}
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.msg, ex.code
	}
	var unreach *unreachableError
	if errors.As(err, &unreach) {
		return unreach.Error(), exitUnreachable
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return responseMessage(re), responseExit(re.StatusCode)
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) {
		if isConnectionError(err) {
			return "error: cannot reach Steward's token service: " + rootCause(err).Error(), exitUnreachable
		}
		return "error: sign-in failed: " + authMessage(af), exitNo
	}
	if isConnectionError(err) {
		return "error: cannot reach Steward: " + rootCause(err).Error(), exitUnreachable
	}
	return "error: " + err.Error(), exitUsage
}

// responseExit maps an HTTP status to an exit status: a request the
// server calls malformed is an input error, everything else it refuses is
// a "no".
func responseExit(status int) int {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
		http.StatusUnprocessableEntity, http.StatusRequestURITooLong:
		return exitUsage
	}
	return exitNo
}

// apiError renders an SDK error for the user now, so that callers that
// wrap it keep the rendered text. Errors that are not HTTP responses pass
// through unchanged.
func apiError(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return &exitError{code: responseExit(re.StatusCode), msg: responseMessage(re)}
	}
	return err
}

// errorBody is the error envelope shared by ARM, Key Vault, Log Analytics
// and Entra-style services: {"error":{"code","message",...}}.
type errorBody struct {
	Error struct {
		Code           string `json:"code"`
		Message        string `json:"message"`
		Target         string `json:"target"`
		AdditionalInfo []struct {
			Type string         `json:"type"`
			Info map[string]any `json:"info"`
		} `json:"additionalInfo"`
		Details []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"details"`
		Innererror *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"innererror"`
	} `json:"error"`
}

// responseMessage renders an error response in full: the code, the
// status, the whole message, each detail, and for a policy deny the
// assignments and definitions that denied it.
func responseMessage(re *azcore.ResponseError) string {
	var body errorBody
	var raw []byte
	if re.RawResponse != nil {
		raw, _ = runtime.Payload(re.RawResponse)
		_ = json.Unmarshal(raw, &body)
	}
	e := body.Error
	code := e.Code
	if code == "" {
		code = re.ErrorCode
	}
	if code == "" {
		code = http.StatusText(re.StatusCode)
	}
	text := e.Message
	if text == "" && e.Innererror != nil {
		text = e.Innererror.Message
	}
	if text == "" {
		// Not the common envelope (the Data Collector API answers
		// {"Error","Message"}): show the body as it came, bounded.
		text = strings.TrimSpace(string(raw))
		if len(text) > 1024 {
			text = text[:1024] + "..."
		}
	}
	if text == "" {
		text = http.StatusText(re.StatusCode)
	}
	if re.StatusCode == http.StatusNotFound && strings.Contains(text, "not served by Steward") {
		text += " This Steward does not serve the management API."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "error: %s (HTTP %d): %s", code, re.StatusCode, text)
	if e.Innererror != nil && e.Innererror.Message != "" && e.Innererror.Message != text {
		fmt.Fprintf(&b, "\n  %s", e.Innererror.Message)
	}
	for _, d := range e.Details {
		fmt.Fprintf(&b, "\n  %s: %s", d.Code, d.Message)
	}
	for _, ai := range e.AdditionalInfo {
		if ai.Type != "PolicyViolation" {
			continue
		}
		fmt.Fprintf(&b, "\n  denied by policy assignment %s (definition %s)",
			policyName(ai.Info, "policyAssignmentName", "policyAssignmentDisplayName", "policyAssignmentId"),
			policyName(ai.Info, "policyDefinitionName", "policyDefinitionDisplayName", "policyDefinitionId"))
		if ref, _ := ai.Info["policyDefinitionReferenceId"].(string); ref != "" {
			fmt.Fprintf(&b, ", reference %s", ref)
		}
		if set, _ := ai.Info["policySetDefinitionName"].(string); set != "" {
			fmt.Fprintf(&b, " in initiative %s", set)
		}
	}
	return b.String()
}

// policyName names a policy object of a PolicyViolation record: its name,
// with the display name in parentheses when there is one, else its ID.
func policyName(info map[string]any, nameKey, displayKey, idKey string) string {
	name, _ := info[nameKey].(string)
	display, _ := info[displayKey].(string)
	if name == "" {
		id, _ := info[idKey].(string)
		name = id[strings.LastIndex(id, "/")+1:]
	}
	if name == "" {
		name = "(unnamed)"
	}
	if display != "" && display != name {
		return fmt.Sprintf("%q (%s)", display, name)
	}
	return name
}

// authMessage shortens an Entra sign-in failure to its error description.
func authMessage(af *azidentity.AuthenticationFailedError) string {
	if af.RawResponse != nil {
		if raw, err := runtime.Payload(af.RawResponse); err == nil {
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(raw, &body) == nil && body.Error != "" {
				if body.Description != "" {
					return body.Error + ": " + body.Description
				}
				return body.Error
			}
		}
	}
	s := af.Error()
	if i := strings.IndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	return s
}

// isConnectionError reports whether err is a failure to reach a server: a
// refused or timed-out connection or an unknown host, not an answer.
func isConnectionError(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// rootCause is the innermost error of err's Unwrap chain.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// unreachableError says that no Steward answers at an address, and how to
// start one.
type unreachableError struct {
	url     string
	dataDir string
}

func (e *unreachableError) Error() string {
	dir := e.dataDir
	if dir == "" {
		dir = "DIR"
	}
	return fmt.Sprintf("Steward is not running at %s: start it with `steward serve --data %s`", e.url, dir)
}

// reachTimeout bounds the connection check before a command calls the
// server, so that a stopped server is reported at once instead of after
// the SDK's retries.
const reachTimeout = time.Second

// checkReachable dials the host of endpoint once and returns an
// *unreachableError when nothing accepts the connection within
// reachTimeout. It checks that a server listens, not that it answers.
func checkReachable(ctx context.Context, endpoint, dataDir string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return usageError("endpoint %q is not a URL", endpoint)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: reachTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return &unreachableError{url: endpoint, dataDir: dataDir}
	}
	return conn.Close()
}
