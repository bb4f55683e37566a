package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// kill9 kills TestKill9LosesNoAcknowledgedWrite's writer child after 200
// acknowledged writes, in the middle of the next ones.
var kill9 = storetest.Kill9{Env: "STEWARD_STORE_CRASH_CHILD", KillAfter: 200}

func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	kill9.RunEach(t, crashChild, func(t *testing.T, s store.Store, acked []string) {
		err := s.View(context.Background(), func(tx store.Tx) error {
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

// crashChild writes pairs of records, one transaction each, and
// acknowledges each committed one (storetest.AckLoop) until it is killed.
func crashChild(url string) {
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		storetest.ChildExit("child open:", err)
	}
	storetest.AckLoop(func(i int) (string, error) {
		key := fmt.Sprintf("k%08d", i)
		return key, s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put(ctx, "crash", key, []byte(payload(key)), store.IfAbsent()); err != nil {
				return err
			}
			_, err := tx.Put(ctx, "pair", key, []byte("p"), store.IfAbsent())
			return err
		})
	})
}

// payload is the value written at key: large enough to span pages.
func payload(key string) string {
	return key + strings.Repeat(".", 3000)
}
