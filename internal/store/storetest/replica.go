package storetest

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// A replica test is a crash test whose child process is a second replica
// on a shared store: the test starts itself again as the child with its
// settings as JSON (StartReplica), waits for the child's signal that it
// has reached the point to die at (Await), kills it (Child.Kill) and
// checks what this process, the surviving replica, makes of what the
// child left. The test's first statement hands the child its body
// (RunReplica).

// RunReplica is the child's half of a replica test. When env is set (the
// process is the child that StartReplica started), it decodes the
// variable's JSON into a T and calls body with it; the child ends with
// status 2 if it is still running after within (so that a lost parent
// cannot leave it behind), or if body returns, since the parent means to
// kill it first. When env is not set, RunReplica returns at once.
func RunReplica[T any](env string, within time.Duration, body func(cfg T)) {
	v := os.Getenv(env)
	if v == "" {
		return
	}
	var cfg T
	if err := json.Unmarshal([]byte(v), &cfg); err != nil {
		ChildExit("replica settings:", err)
	}
	go func() {
		time.Sleep(within)
		ChildExit("the replica was not killed within", within)
	}()
	body(cfg)
	ChildExit("the replica returned")
}

// StartReplica runs the test that called it again as a child process
// (StartChild) with settings, as JSON, in env, which the child reads with
// RunReplica.
func StartReplica(t *testing.T, env string, settings any) *Child {
	t.Helper()
	b, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	return StartChild(t, env, string(b))
}

// Await returns the first value the child's signal ch delivers. It fails
// t, with what and the child's stderr, if none comes within d or the
// child ends first.
func Await[T any](t *testing.T, c *Child, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-c.done:
		t.Fatalf("%s: the replica ended first: %v\n%s", what, c.err, c.stderr.String())
	case <-time.After(within):
		_, out := c.Exited()
		t.Fatalf("%s within %s\n%s", what, within, out)
	}
	panic("unreachable")
}
