package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// signalWait bounds how long a test waits for a signal that must come.
// It is a liveness bound, not a measurement.
const signalWait = 10 * time.Second

// received reports whether ch holds a signal now.
func received(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// awaitSignal fails t unless ch signals within signalWait.
func awaitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(signalWait):
		t.Fatalf("no signal %s", what)
	}
}

var notifyTests = []test{
	{"SignalAfterCommitOnly", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		ch, cancel, err := s.Subscribe("policy")
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
		other, cancelOther, err := s.Subscribe("rbac")
		if err != nil {
			t.Fatal(err)
		}
		defer cancelOther()
		err = s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Notify(ctx, "policy"); err != nil {
				return err
			}
			if err := tx.Notify(ctx, "policy"); err != nil { // twice: one signal
				return err
			}
			if received(ch) {
				t.Error("signalled before the transaction committed")
			}
			_, err := tx.Put(ctx, "t", "k", []byte("v"), store.Cond{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		awaitSignal(t, ch, "after commit")
		if received(other) {
			t.Error("a subscriber of another channel was signalled")
		}
		// A rolled-back transaction signals no one.
		boom := errors.New("boom")
		err = s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Notify(ctx, "policy"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
		time.Sleep(200 * time.Millisecond)
		if received(ch) {
			t.Error("signalled after a rollback")
		}
	}},
	{"PayloadsReachNoteSubscribers", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		notes, err := s.SubscribeNotes("states")
		if err != nil {
			t.Fatal(err)
		}
		defer notes.Close()
		plain, cancel, err := s.Subscribe("states")
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
		commit := func(payloads ...string) {
			t.Helper()
			err := s.Update(ctx, func(tx store.Tx) error {
				for _, p := range payloads {
					if err := tx.NotifyPayload(ctx, "states", p); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		commit("a\nb", "a\nb", "c") // the same payload twice: once
		commit("")                  // Notify
		commit("d")
		var got []string
		deadline := time.Now().Add(signalWait)
		for len(got) < 4 {
			select {
			case <-notes.C:
			case <-time.After(time.Until(deadline)):
				t.Fatalf("payloads %q after three commits, want 4", got)
			}
			p, lost := notes.Take()
			if lost {
				t.Fatalf("lost notes after %q", got)
			}
			got = append(got, p...)
		}
		// Commits arrive in order; one commit's payloads in any order.
		if len(got) != 4 || got[2] != "" || got[3] != "d" || !(got[0] == "a\nb" && got[1] == "c" || got[0] == "c" && got[1] == "a\nb") {
			t.Errorf("payloads %q, want a\\nb and c, then \"\", then d", got)
		}
		awaitSignal(t, plain, "for Subscribe's subscriber")
		err = s.Update(ctx, func(tx store.Tx) error {
			return tx.NotifyPayload(ctx, "states", strings.Repeat("x", store.MaxNotePayload+1))
		})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("NotifyPayload(too long) = %v, want ErrInvalid", err)
		}
		err = s.Update(ctx, func(tx store.Tx) error { return tx.NotifyPayload(ctx, "a\nb", "x") })
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("NotifyPayload on a channel with a newline = %v, want ErrInvalid", err)
		}
	}},
	{"CancelledSubscriptionIsQuiet", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		ch, cancel, err := s.Subscribe("c")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Notify(ctx, "c") }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if received(ch) {
			t.Error("a cancelled subscription was signalled")
		}
	}},
	{"InvalidUse", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		if _, _, err := s.Subscribe(""); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Subscribe(\"\") = %v, want ErrInvalid", err)
		}
		err := s.Update(ctx, func(tx store.Tx) error { return tx.Notify(ctx, string(make([]byte, 65))) })
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Notify(long) = %v, want ErrInvalid", err)
		}
		err = s.View(ctx, func(tx store.Tx) error { return tx.Notify(ctx, "c") })
		if !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Notify in a View = %v, want ErrReadOnly", err)
		}
	}},
}
