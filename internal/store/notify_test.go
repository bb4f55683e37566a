package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

func awaitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("no signal %s", what)
	}
}

func notify(t *testing.T, s store.Store, channel string) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Notify(ctx, channel) }); err != nil {
		t.Fatal(err)
	}
}

// A commit on one replica reaches the subscribers of the other, and a
// LISTEN session killed under a replica comes back and tells its
// subscribers to re-read (they may have missed commits meanwhile).
func TestPostgresNotificationsCrossReplicasAndSurviveALostSession(t *testing.T) {
	a, b := openTwice(t)
	ctx := context.Background()
	ch, cancel, err := b.Subscribe("policy")
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	notes, err := b.SubscribeNotes("policy")
	if err != nil {
		t.Fatal(err)
	}
	defer notes.Close()
	notify(t, a, "policy")
	awaitSignal(t, ch, "on replica b after a commit on replica a")
	awaitSignal(t, notes.C, "to b's note subscriber")
	if p, lost := notes.Take(); lost || len(p) != 1 {
		t.Fatalf("b's notes after one commit: %q, lost %v", p, lost)
	}

	// Kill b's LISTEN session (only this schema's: other tests share the
	// database), as a network failure would.
	sum := sha256.Sum256([]byte(a.Raw().Schema))
	listen := `LISTEN "steward_` + hex.EncodeToString(sum[:8]) + `"`
	res, err := a.Raw().Write.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = $1`, listen)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("found no LISTEN session to terminate")
	}
	awaitSignal(t, ch, "after the LISTEN session was re-established")
	awaitSignal(t, notes.C, "to b's note subscriber after the LISTEN session was re-established")
	if _, lost := notes.Take(); !lost {
		t.Error("b's note subscriber was not told that notes may have been lost")
	}
	notify(t, a, "policy")
	awaitSignal(t, ch, "from the re-established session")
}

// A commit's payloads reach listeners of earlier releases, which know
// only the channel's name, as that name alone after them; a Notify of the
// channel in the same commit is sent alone.
func TestPostgresPayloadsEndWithTheChannelForEarlierReleases(t *testing.T) {
	u := storetest.PostgresSchema(t)
	ctx := context.Background()
	s, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sum := sha256.Sum256([]byte(s.Raw().Schema))
	if _, err := conn.Exec(ctx, `LISTEN "steward_`+hex.EncodeToString(sum[:8])+`"`); err != nil {
		t.Fatal(err)
	}
	commit := func(plain bool, payloads ...string) {
		t.Helper()
		err := s.Update(ctx, func(tx store.Tx) error {
			for _, p := range payloads {
				if err := tx.NotifyPayload(ctx, "states", p); err != nil {
					return err
				}
			}
			if plain {
				return tx.Notify(ctx, "states")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	commit(false, "x", "y")
	commit(true, "z")
	var got []string
	for len(got) < 4 {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		note, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, note.Payload)
	}
	if want := []string{"states\nx", "states\ny", "states", "states"}; !slices.Equal(got, want) {
		t.Errorf("notifications %q, want %q", got, want)
	}
}
