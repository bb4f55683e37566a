package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Kill9 is a crash test in two processes: the test binary runs itself
// again as a child that writes and acknowledges each durable write on
// stdout ([AckLoop]); the parent kills it with SIGKILL in the middle of its
// writes, reopens the store and checks that every acknowledged write
// survived ([Kill9.RunEach]).
type Kill9 struct {
	// Env names the environment variable that hands the store URL to the
	// child and tells the binary it is the child.
	Env string
	// KillAfter is how many acknowledgements the parent waits for before
	// it kills the child.
	KillAfter int
}

// RunEach runs the test on every URLBackend; the child runs only the
// test that called it (t.Name()). In the child process it calls
// child with the store URL instead, which must not return (see AckLoop).
// In the parent, for each backend, it starts the child on a fresh store,
// kills it after KillAfter acknowledgements, reopens the store and calls
// check with it and every id the child acknowledged, in order (those read
// after the kill was sent included).
func (k Kill9) RunEach(t *testing.T, child func(url string), check func(t *testing.T, st store.Store, acked []string)) {
	if url := os.Getenv(k.Env); url != "" {
		child(url)
		ChildExit("child returned")
	}
	test := t.Name()
	for _, b := range URLBackends {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			acked := k.run(t, test, url)
			st, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatalf("reopen after kill -9: %v", err)
			}
			defer st.Close()
			check(t, st, acked)
		})
	}
}

// run starts the child, running test on url, kills it with SIGKILL after KillAfter
// acknowledgements, and returns every id it acknowledged. It fails t if
// the child ends on its own.
func (k Kill9) run(t *testing.T, test, url string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(test)+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), k.Env+"="+url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked = append(acked, id)
		if len(acked) == k.KillAfter && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended after %d acknowledgements without being killed: %v\n%s", len(acked), err, stderr.String())
	}
	return acked
}

// AckLoop is the child's body: it calls write(0), write(1), ... and, once
// each returns, acknowledges the id it returned on stdout, until the
// process is killed, or a minute has passed so that a lost parent cannot
// leave it running. An error from write ends the child with status 2 and
// the error on stderr. It never returns.
func AckLoop(write func(i int) (id string, err error)) {
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		id, err := write(i)
		if err != nil {
			ChildExit("child write:", err)
		}
		// os.Stdout is unbuffered: the line leaves the process before the
		// next write starts.
		if _, err := os.Stdout.WriteString("ack " + id + "\n"); err != nil {
			os.Exit(2)
		}
	}
	os.Exit(0)
}

// ChildExit ends the child with status 2 after printing args on stderr,
// where the parent's failure message shows them.
func ChildExit(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	os.Exit(2)
}

// Child is a copy of the test binary running one test as a child process
// (see StartChild), for crash tests that decide themselves when to kill
// it.
type Child struct {
	cmd    *exec.Cmd
	stderr strings.Builder
	done   chan struct{}
	err    error
}

// StartChild runs the test that called it (t.Name()) again in a child
// process with env set to value; the test tells by that variable that it
// runs in the child. The child is killed when t ends, if it is still
// running. Children should end themselves after a while (a minute, say)
// so that a lost parent cannot leave one running.
func StartChild(t *testing.T, env, value string) *Child {
	t.Helper()
	c := &Child{done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), env+"="+value)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// Kill sends SIGKILL to the child and waits until it is gone. It fails t
// if the child had ended on its own before.
func (c *Child) Kill(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
		t.Fatalf("child ended before it was killed: %v\n%s", c.err, c.stderr.String())
	default:
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

// Exited reports whether the child has ended, and its stderr if so.
func (c *Child) Exited() (bool, string) {
	select {
	case <-c.done:
		return true, fmt.Sprint(c.err, "\n", c.stderr.String())
	default:
		return false, ""
	}
}
