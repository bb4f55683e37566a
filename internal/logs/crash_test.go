package logs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// kill9 kills TestKill9LosesNoAcknowledgedRows's ingesting child after 40
// acknowledged posts.
var kill9 = storetest.Kill9{Env: "STEWARD_LOGS_CRASH_CHILD", KillAfter: 40}

// crashBatch is the number of rows each acknowledged post carries.
const crashBatch = 25

func TestKill9LosesNoAcknowledgedRows(t *testing.T) {
	kill9.RunEach(t, crashChild, func(t *testing.T, st store.Store, acked []string) {
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

// crashChild posts batches through the Data Collector API and
// acknowledges each batch the API answered 200 for (storetest.AckLoop)
// until it is killed.
func crashChild(url string) {
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		storetest.ChildExit("child open:", err)
	}
	s := New(st, Options{Now: clock})
	ws := Workspace{ResourceID: "/x", CustomerID: testCustomerID, PrimaryKey: testKey, SecondaryKey: testKey}
	if err := st.Update(ctx, func(tx store.Tx) error { return putJSON(ctx, tx, workspacesTable, ws.CustomerID, ws) }); err != nil {
		storetest.ChildExit("child workspace:", err)
	}
	h := s.CollectorHandler()
	t := &testing.T{}
	storetest.AckLoop(func(i int) (string, error) {
		id := fmt.Sprintf("b%06d", i)
		var recs []string
		for j := range crashBatch {
			recs = append(recs, fmt.Sprintf(`{"batch":"%s","n":%d}`, id, j))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, collectorRequest(t, "Crash", "["+strings.Join(recs, ",")+"]", fixedNow, nil))
		if w.Code != http.StatusOK {
			return "", fmt.Errorf("post: %d %s", w.Code, w.Body.String())
		}
		return id, nil
	})
}
