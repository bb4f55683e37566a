package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// confirm asks question on a terminal and proceeds on "y" or "yes"; with
// --yes it does not ask. Without a terminal on standard input there is
// nobody to ask, and a destructive command must not guess: it needs --yes
// (exit 2). A "no" is the answer no (exit 1).
func confirm(cmd *cobra.Command, question string) error {
	if yes, _ := cmd.Flags().GetBool("yes"); yes {
		return nil
	}
	if !stdinIsTerminal(cmd) {
		return &exitError{code: 2, msg: fmt.Sprintf("%s: standard input is not a terminal, so nobody can confirm: add --yes", cmd.CommandPath())}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 256)).ReadString('\n')
	if err != nil && line == "" {
		return &exitError{code: 1, msg: "not confirmed; nothing was changed"}
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &exitError{code: 1, msg: "not confirmed; nothing was changed"}
}

// stdinIsTerminal reports whether the command reads a terminal. Tests
// that set their own input reader are not terminals.
var stdinIsTerminal = func(cmd *cobra.Command) bool {
	if cmd.InOrStdin() != os.Stdin {
		return false
	}
	// A terminal, not any character device: /dev/null is one too.
	return term.IsTerminal(int(os.Stdin.Fd()))
}
