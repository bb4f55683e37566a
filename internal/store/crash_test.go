package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// crashChildEnv, when set to a store URL, turns this test binary into the
// writer child of TestKill9LosesNoAcknowledgedWrite.
const crashChildEnv = "STEWARD_STORE_CRASH_CHILD"

// acksBeforeKill is how many acknowledged writes the parent waits for
// before it kills the child in the middle of the next ones.
const acksBeforeKill = 200

func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if u := os.Getenv(crashChildEnv); u != "" {
		crashChild(u)
		return
	}
	for _, b := range urlBackends {
		t.Run(b.name, func(t *testing.T) {
			u := b.url(t)
			acked := runAndKill(t, u)
			s, err := store.Open(context.Background(), u)
			if err != nil {
				t.Fatalf("reopen after kill -9: %v", err)
			}
			defer s.Close()
			err = s.View(context.Background(), func(tx store.Tx) error {
				for _, key := range acked {
					r, err := tx.Get(context.Background(), "crash", key)
					if err != nil {
						return fmt.Errorf("acknowledged %s lost: %w", key, err)
					}
					if string(r.Value) != payload(key) {
						return fmt.Errorf("acknowledged %s has value %.40q", key, r.Value)
					}
				}
				// Each transaction wrote a record in "crash" and one in
				// "pair": both or neither may have survived.
				for _, table := range [][2]string{{"crash", "pair"}, {"pair", "crash"}} {
					page, err := tx.Scan(context.Background(), table[0], store.Query{KeysOnly: true, Limit: store.MaxPageSize})
					if err != nil {
						return err
					}
					for _, r := range page.Records {
						if _, err := tx.Get(context.Background(), table[1], r.Key); err != nil {
							return fmt.Errorf("half a transaction survived: %s/%s without %s: %w", table[0], r.Key, table[1], err)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d acknowledged writes, all present after kill -9", len(acked))
		})
	}
}

// runAndKill starts the writer child on url, kills it with SIGKILL after
// acksBeforeKill acknowledgements, and returns every key it acknowledged.
func runAndKill(t *testing.T, url string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9LosesNoAcknowledgedWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+url)
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
		key, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked = append(acked, key)
		if len(acked) == acksBeforeKill && !killed {
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

// crashChild writes pairs of records, one transaction each, and
// acknowledges each committed one on stdout, until it is killed (or gives
// up after a minute, so a lost parent cannot leave it running).
func crashChild(url string) {
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		key := fmt.Sprintf("k%08d", i)
		err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put(ctx, "crash", key, []byte(payload(key)), store.IfAbsent()); err != nil {
				return err
			}
			_, err := tx.Put(ctx, "pair", key, []byte("p"), store.IfAbsent())
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			os.Exit(2)
		}
		// Unbuffered: the line leaves the process before the next write.
		if _, err := os.Stdout.WriteString("ack " + key + "\n"); err != nil {
			os.Exit(2)
		}
	}
	os.Exit(0)
}

// payload is the value written at key: large enough to span pages.
func payload(key string) string {
	return key + strings.Repeat(".", 3000)
}
