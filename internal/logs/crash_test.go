package logs

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// crashChildEnv, when set to a store URL, turns this test binary into the
// ingesting child of TestKill9LosesNoAcknowledgedRows.
const crashChildEnv = "STEWARD_LOGS_CRASH_CHILD"

// crashBatch is the number of rows each acknowledged post carries.
const crashBatch = 25

func TestKill9LosesNoAcknowledgedRows(t *testing.T) {
	if u := os.Getenv(crashChildEnv); u != "" {
		crashChild(u)
		return
	}
	urls := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "logs.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresSchema(t) }},
	}
	for _, b := range urls {
		t.Run(b.name, func(t *testing.T) {
			u := b.url(t)
			acked := runAndKill(t, u)
			st, err := store.Open(context.Background(), u)
			if err != nil {
				t.Fatalf("reopen after kill -9: %v", err)
			}
			defer st.Close()
			s := New(st, Options{Now: clock})
			res := runQuery(t, s.Rows.Source(testCustomerID, Window{}), "Crash_CL | summarize n = count() by batch_s")
			counts := map[string]int64{}
			for _, r := range res.Rows {
				counts[r[0].AsString()] = r[1].AsInt()
			}
			for _, id := range acked {
				if counts[id] != crashBatch {
					t.Errorf("acknowledged batch %s has %d rows after kill -9, want %d", id, counts[id], crashBatch)
				}
			}
			for id, n := range counts {
				if n != crashBatch {
					t.Errorf("batch %s survived half-written: %d rows", id, n)
				}
			}
			t.Logf("%d acknowledged posts, all present after kill -9", len(acked))
		})
	}
}

// runAndKill starts the child on url, kills it after 40 acknowledged
// posts, and returns every batch it acknowledged.
func runAndKill(t *testing.T, url string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9LosesNoAcknowledgedRows$", "-test.count=1")
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
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked = append(acked, id)
		if len(acked) == 40 && !killed {
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

// crashChild posts batches through the Data Collector API and prints each
// batch the API answered 200 for, until it is killed (or after a minute).
func crashChild(url string) {
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	s := New(st, Options{Now: clock})
	ws := Workspace{ResourceID: "/x", CustomerID: testCustomerID, PrimaryKey: testKey, SecondaryKey: testKey}
	if err := st.Update(ctx, func(tx store.Tx) error { return putJSON(ctx, tx, workspacesTable, ws.CustomerID, ws) }); err != nil {
		fmt.Fprintln(os.Stderr, "child workspace:", err)
		os.Exit(2)
	}
	h := s.CollectorHandler()
	t := &testing.T{}
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		id := fmt.Sprintf("b%06d", i)
		var recs []string
		for j := range crashBatch {
			recs = append(recs, fmt.Sprintf(`{"batch":"%s","n":%d}`, id, j))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, collectorRequest(t, "Crash", "["+strings.Join(recs, ",")+"]", fixedNow, nil))
		if w.Code != http.StatusOK {
			fmt.Fprintln(os.Stderr, "child post:", w.Code, w.Body.String())
			os.Exit(2)
		}
		if _, err := os.Stdout.WriteString("ack " + id + "\n"); err != nil {
			os.Exit(2)
		}
	}
	os.Exit(0)
}
