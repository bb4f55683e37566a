//go:build linux

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// docsMainEnv makes the test binary behave as the steward command, so that
// the docs test runs the code under test without a second build: the test
// puts a link named steward to its own executable on PATH.
const docsMainEnv = "STEWARD_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(docsMainEnv) == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// docsNotRun are the Markdown files under docs/ whose shell blocks the
// test does not run: both are assembled by the coordinator from
// docs/benchmarks/ and docs/decisions/, and the benchmark commands they
// quote take minutes by design.
var docsNotRun = map[string]bool{"benchmarks.md": true, "decisions.md": true}

// shellBlock is one ```sh block of a Markdown file with the expectations
// its annotation comments state (see docs/contributing.md).
type shellBlock struct {
	file    string
	line    int // line of the opening fence
	body    string
	exit    int
	outputs []string
	skip    string // why the block is not run, when it is not
	needs   []string
}

var (
	fenceOpen  = regexp.MustCompile("^```([A-Za-z0-9_-]*)\\s*$")
	expectExit = regexp.MustCompile(`^#\s*expect:\s*exit\s+(\d+)\s*$`)
	expectOut  = regexp.MustCompile(`^#\s*expect-output:\s*(.+?)\s*$`)
	skipBlock  = regexp.MustCompile(`^#\s*docs-test:\s*skip\b\s*(.*)$`)
	needsCmd   = regexp.MustCompile(`^#\s*needs:\s*(.+?)\s*$`)
)

// parseShellBlocks extracts the ```sh blocks of a Markdown document. A
// block fenced as bash, shell or zsh is an error: such blocks are either
// run (sh) or shown (console, text), never ambiguous.
func parseShellBlocks(file, doc string) ([]shellBlock, error) {
	var blocks []shellBlock
	var cur *shellBlock
	inFence := false
	for i, line := range strings.Split(doc, "\n") {
		if !inFence {
			m := fenceOpen.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			inFence = true
			switch m[1] {
			case "sh":
				cur = &shellBlock{file: file, line: i + 1}
			case "bash", "shell", "zsh":
				return nil, fmt.Errorf("%s:%d: fence as ```sh (run by the docs test) or ```console (not run), not ```%s", file, i+1, m[1])
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			inFence = false
			if cur != nil {
				blocks = append(blocks, *cur)
				cur = nil
			}
			continue
		}
		if cur == nil {
			continue
		}
		trimmed := strings.TrimSpace(line)
		if m := expectExit.FindStringSubmatch(trimmed); m != nil {
			cur.exit, _ = strconv.Atoi(m[1])
		} else if m := expectOut.FindStringSubmatch(trimmed); m != nil {
			cur.outputs = append(cur.outputs, m[1])
		} else if m := skipBlock.FindStringSubmatch(trimmed); m != nil {
			if m[1] == "" {
				return nil, fmt.Errorf("%s:%d: docs-test: skip needs a reason", file, i+1)
			}
			cur.skip = m[1]
		} else if m := needsCmd.FindStringSubmatch(trimmed); m != nil {
			cur.needs = append(cur.needs, strings.Fields(m[1])...)
		}
		cur.body += line + "\n"
	}
	if inFence {
		return nil, fmt.Errorf("%s: a code fence is not closed", file)
	}
	return blocks, nil
}

func TestParseShellBlocksReadsAnnotations(t *testing.T) {
	doc := "text\n```sh\nsteward group create x -l eastus\n# expect: exit 1\n# expect-output: RequestDisallowedByPolicy\n```\n" +
		"```console\n$ not run\n```\n```sh\n# docs-test: skip the test starts serve itself\nsteward serve\n```\n```sh\n# needs: az jq\naz group list\n```\n"
	blocks, err := parseShellBlocks("x.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want 3: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.line != 2 || b.exit != 1 || len(b.outputs) != 1 || b.outputs[0] != "RequestDisallowedByPolicy" || b.skip != "" {
		t.Errorf("block 1: %+v", b)
	}
	if b := blocks[1]; b.skip != "the test starts serve itself" {
		t.Errorf("block 2: %+v", b)
	}
	if b := blocks[2]; len(b.needs) != 2 || b.needs[0] != "az" {
		t.Errorf("block 3: %+v", b)
	}
	for _, bad := range []string{"```bash\nls\n```\n", "```sh\n# docs-test: skip\nls\n```\n", "```sh\nls\n"} {
		if _, err := parseShellBlocks("x.md", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestDocsShellBlocks runs every ```sh block of README.md and docs/*.md, in
// order per file, with bash against a fresh `steward serve`, and checks
// each block's exit status and stated output.
func TestDocsShellBlocks(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed: the README and docs shell blocks are not run")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(repo, "README.md")}
	docs, _ := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	for _, f := range docs {
		if !docsNotRun[filepath.Base(f)] {
			files = append(files, f)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "steward")); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repo, f)
		blocks, err := parseShellBlocks(rel, string(raw))
		if err != nil {
			t.Error(err)
			continue
		}
		if len(blocks) == 0 {
			continue
		}
		// Each file has its own Steward and scratch directory, so files
		// run in parallel.
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			runDocBlocks(t, bash, bin, repo, blocks)
		})
	}
}

// runDocBlocks starts a fresh Steward and runs a file's blocks in order in
// a scratch directory that links the repository's files, so examples can
// name them and files a block writes stay out of the checkout.
func runDocBlocks(t *testing.T, bash, bin, repo string, blocks []shellBlock) {
	tmp := t.TempDir()
	home, work := filepath.Join(tmp, "home"), filepath.Join(tmp, "work")
	data := filepath.Join(home, "steward-data")
	for _, d := range []string{home, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := os.Symlink(filepath.Join(repo, e.Name()), filepath.Join(work, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	env := docsEnv(bin, home, data)
	stopServe := startDocsServe(t, env, data)
	defer stopServe()

	state := filepath.Join(tmp, "shell-state")
	prelude := `eval "$(steward env)"`
	if out, code := runBashBlock(t, bash, work, env, state, prelude); code != 0 {
		t.Fatalf("eval \"$(steward env)\": exit %d\n%s", code, out)
	}
	for _, b := range blocks {
		name := fmt.Sprintf("%s:%d", b.file, b.line)
		if b.skip != "" {
			t.Logf("%s: not run: %s", name, b.skip)
			continue
		}
		if missing := missingCommands(b.needs); missing != "" {
			t.Logf("%s: not run: %s is not installed", name, missing)
			continue
		}
		out, code := runBashBlock(t, bash, work, env, state, b.body)
		if code != b.exit {
			t.Errorf("%s: exit %d, want %d (annotate with `# expect: exit N` if the doc means it)\n%s\n--- output:\n%s", name, code, b.exit, b.body, clip(out))
			continue
		}
		for _, want := range b.outputs {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q\n%s\n--- output:\n%s", name, want, b.body, clip(out))
			}
		}
	}
}

// docsEnv is the environment of the blocks: the test binary as steward on
// PATH, a scratch HOME and the fresh data directory, and none of the
// caller's Azure settings.
func docsEnv(bin, home, data string) []string {
	env := []string{docsMainEnv + "=1", "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "STEWARD_DATA=" + data, "LANG=C.UTF-8"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH" || k == "HOME" || k == "STEWARD_DATA" || k == "LANG" || strings.HasPrefix(k, "XDG_"):
		case strings.HasPrefix(k, "AZURE_") || strings.HasPrefix(k, "STEWARD_") || k == "SSL_CERT_FILE" || k == "REQUESTS_CA_BUNDLE":
		default:
			env = append(env, kv)
		}
	}
	return env
}

// startDocsServe runs `steward serve` on a free loopback port and waits
// until it answers /readyz.
func startDocsServe(t *testing.T, env []string, data string) func() {
	t.Helper()
	cmd := exec.Command(lookPathIn(t, env, "steward"), "serve", "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = env
	logf, err := os.Create(filepath.Join(filepath.Dir(data), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := docsServeReady(data); err == nil {
			return stop
		} else if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("steward serve did not become ready: %v\n%s", err, clip(string(log)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// docsServeReady asks the Steward of data for /readyz.
func docsServeReady(data string) error {
	info, err := identity.ReadBootstrap(data)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(server.CAPath(data))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := c.Get(strings.TrimSuffix(info.ARMEndpoint, "/") + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}

// stateSkip are the shell variables a block's state file does not carry:
// bash's own, which are read-only or change by themselves.
const stateSkip = `^(BASH.*|SHELLOPTS|BASHOPTS|EUID|UID|PPID|FUNCNAME|GROUPS|PIPESTATUS|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCHREALTIME|EPOCHSECONDS|DIRSTACK|COMP_.*|OPTIND|OPTARG|_|__docs_status|PWD|OLDPWD|SHLVL)$`

// blockTimeout bounds one block.
const blockTimeout = 3 * time.Minute

// runBashBlock runs one block with bash -eo pipefail in its own process
// group, restoring the variables and directory the blocks before it left
// and saving them for the next, and returns its output and exit status.
func runBashBlock(t *testing.T, bash, dir string, env []string, state, body string) (string, int) {
	t.Helper()
	script := fmt.Sprintf(`if [ -f %[1]q ]; then source %[1]q 2>/dev/null || true; fi
trap '__docs_status=$?; declare -p $(compgen -v | grep -Ev %[2]q) > %[1]q 2>/dev/null; printf "cd %%q\n" "$PWD" >> %[1]q; exit $__docs_status' EXIT
set -eo pipefail
%[3]s`, state, stateSkip, body)
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", "-c", script)
	cmd.Dir = dir
	cmd.Env = env
	// The output goes to a file, not a pipe, so that a background job the
	// block leaves behind cannot hold the test up.
	outf, err := os.CreateTemp(t.TempDir(), "block-output")
	if err != nil {
		t.Fatal(err)
	}
	defer outf.Close()
	cmd.Stdout, cmd.Stderr = outf, outf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	// Background jobs a block started end with it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	out, _ := os.ReadFile(outf.Name())
	if ctx.Err() != nil {
		return string(out) + fmt.Sprintf("\n(timed out after %v)", blockTimeout), -1
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("bash: %v", err)
	}
	return string(out), 0
}

// lookPathIn finds a command on the PATH of env.
func lookPathIn(t *testing.T, env []string, name string) string {
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range filepath.SplitList(p) {
				if fi, err := os.Stat(filepath.Join(d, name)); err == nil && !fi.IsDir() {
					return filepath.Join(d, name)
				}
			}
		}
	}
	t.Fatalf("%s is not on PATH", name)
	return ""
}

// missingCommands names the first command of names that is not on PATH.
func missingCommands(names []string) string {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return n
		}
	}
	return ""
}

// clip bounds output in failure messages.
func clip(s string) string {
	const max = 6000
	if len(s) > max {
		return s[:max/2] + "\n...\n" + s[len(s)-max/2:]
	}
	return s
}
