package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// stderrIsTerminal reports whether the command writes its diagnostics to
// the process's standard error and that is a terminal: progress is shown
// to a person watching, never into a pipe or a log file.
func stderrIsTerminal(cmd *cobra.Command) bool {
	if cmd.ErrOrStderr() != os.Stderr {
		return false
	}
	return term.IsTerminal(int(os.Stderr.Fd())) // /dev/null is a character device, not a terminal
}

// showProgress starts a progress line on w when on is set; the returned
// stop erases the line and is safe to call more than once.
func showProgress(w io.Writer, on bool, interval time.Duration, label string, status func(elapsed time.Duration) string) func() {
	if !on {
		return func() {}
	}
	if status == nil {
		status = func(elapsed time.Duration) string { return fmt.Sprintf("%ds", int(elapsed.Seconds())) }
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\033[K%s: %s", label, status(time.Since(start)))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// firstStartProgress tells a person at a terminal what the first start of
// serve is doing while it creates the data directory (the CA, the store,
// the home tenant), which takes seconds with no other output. It prints
// nothing when the directory has a bootstrap.json or stderr is not a
// terminal.
func firstStartProgress(cmd *cobra.Command, dataDir string) func() {
	if _, err := os.Stat(filepath.Join(dataDir, "bootstrap.json")); err == nil || !stderrIsTerminal(cmd) {
		return func() {}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "First start: creating %s (certificate authority, store, home tenant, vault).\n", dataDir)
	return showProgress(cmd.ErrOrStderr(), true, time.Second, "setting up", nil)
}
