// Command steward is Steward's single binary: the embedded cloud
// (steward serve) and the governance tools (policy, rbac, kql, vault, ...).
// main stays thin: it builds the command tree and maps errors to an exit
// status.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	cmd := newRootCmd()
	if err := cmd.Execute(); err != nil {
		var ex *exitError
		if errors.As(err, &ex) {
			if ex.msg != "" {
				fmt.Fprintln(os.Stderr, ex.msg)
			}
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
}

// exitError ends the program with a chosen status, for commands whose exit
// status carries meaning (a failing test run, a non-compliant scan).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
