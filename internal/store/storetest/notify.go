package storetest

import (
	"context"
	"errors"
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
