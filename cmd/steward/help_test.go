package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryLeafCommandHasAnExample walks the command tree and fails on a
// runnable command without an Example in its help, and on an example that
// does not start with the command's own path.
func TestEveryLeafCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub)
		}
		if c.HasSubCommands() {
			return
		}
		path := c.CommandPath()
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no Example in its help", path)
			return
		}
		if !strings.Contains(c.Example, path) {
			t.Errorf("%s: its Example does not show %q:\n%s", path, path, c.Example)
		}
	}
	walk(newRootCmd())
}

// TestRootHelpNamesOnlyCommandsThatExist checks that every "steward X"
// the root help mentions is a command.
func TestRootHelpNamesOnlyCommandsThatExist(t *testing.T) {
	root := newRootCmd()
	text := root.Long + "\n" + root.Example
	for i := strings.Index(text, "steward "); i >= 0; {
		rest := text[i+len("steward "):]
		name := strings.FieldsFunc(rest, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '-') })
		if len(name) > 0 {
			if c, _, err := root.Find([]string{name[0]}); err != nil || c == root {
				t.Errorf("root help mentions %q, which is not a command", "steward "+name[0])
			}
		}
		j := strings.Index(rest, "steward ")
		if j < 0 {
			break
		}
		i += len("steward ") + j
	}
}

// TestExampleTableNamesCommandsThatExist keeps commandExamples free of
// entries for commands that were renamed or removed.
func TestExampleTableNamesCommandsThatExist(t *testing.T) {
	root := newRootCmd()
	for path := range commandExamples {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil || c.CommandPath() != "steward "+path {
			t.Errorf("commandExamples[%q]: no such command", path)
		}
	}
}

// TestExamplesUseFlagsTheCommandHas checks every flag an Example passes to
// its own command exists there, so help never shows a command that fails.
func TestExamplesUseFlagsTheCommandHas(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Example == "" || c.HasSubCommands() {
			return
		}
		// Join continuation lines, then look at the lines that run c.
		text := strings.ReplaceAll(c.Example, "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			i := strings.Index(line, c.CommandPath()+" ")
			if i < 0 {
				continue
			}
			for _, f := range strings.Fields(line[i:]) {
				if f == "|" || f == ">" || f == "&&" || f == ";" {
					break
				}
				if !strings.HasPrefix(f, "--") {
					continue
				}
				name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
				if c.Flags().Lookup(name) == nil && c.InheritedFlags().Lookup(name) == nil && name != "help" {
					t.Errorf("%s: its Example passes --%s, which it does not have", c.CommandPath(), name)
				}
			}
		}
	}
	walk(newRootCmd())
}
