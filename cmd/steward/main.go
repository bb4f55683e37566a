// Command steward is Steward's single binary: the embedded cloud
// (steward serve) and the governance tools (policy, rbac, kql, vault, ...).
// main stays thin: it builds the command tree and hands any error to the
// one renderer that maps it to a message and an exit status (errors.go).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line args and returns the exit status.
func run(args []string) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	return renderError(os.Stderr, cmd.Execute())
}
