package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Change notifications.
//
// A writer calls Tx.Notify(channel) inside an Update; once that
// transaction commits, every subscriber of channel, in this process and in
// every other process sharing the database, receives a signal. A rolled
// back transaction signals no one. Signals carry no data and coalesce: a
// subscriber that is slow sees one signal for many commits, and must then
// re-read what it caches. On PostgreSQL the signal travels by NOTIFY on
// one channel per schema (delivered by the server at commit) and a LISTEN
// session of its own per process; when that session fails, every
// subscriber is signalled once it is re-established, because commits in
// between may have been missed. On SQLite the store belongs to one process
// and the signal is delivered in process after commit.
//
// Notifications speed caches up; they do not replace a durable record of
// the change (a generation counter in the same transaction), which a
// subscriber reads on the signal and, as a fallback, now and then.

// maxChannelLen bounds a notification channel's name.
const maxChannelLen = 64

func checkChannel(channel string) error {
	if channel == "" || len(channel) > maxChannelLen {
		return fmt.Errorf("%w: notification channel must be 1 to %d bytes", ErrInvalid, maxChannelLen)
	}
	return checkText("notification channel", channel)
}

// notifier fans signals out to the subscribers of this process.
type notifier struct {
	mu   sync.Mutex
	subs map[string][]chan struct{}

	// PostgreSQL: the LISTEN session, started by the first Subscribe.
	db       *sql.DB
	pgName   string // the NOTIFY channel of this schema
	started  bool
	ready    chan struct{} // closed when the first LISTEN is in place
	stop     context.CancelFunc
	finished chan struct{}
}

// pgListenReadyWait bounds how long Subscribe waits for the first LISTEN
// session; after it, signals start whenever the session is up.
var pgListenReadyWait = 5 * time.Second

func newNotifier() *notifier { return &notifier{subs: map[string][]chan struct{}{}} }

// pgChannel is the NOTIFY channel of a schema: an identifier PostgreSQL
// accepts whatever the schema's name is.
func pgChannel(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "steward_" + hex.EncodeToString(sum[:8])
}

// Subscribe implements Store.
func (s *sqlStore) Subscribe(channel string) (<-chan struct{}, func(), error) {
	if err := checkChannel(channel); err != nil {
		return nil, nil, err
	}
	if s.closed.Load() {
		return nil, nil, ErrClosed
	}
	n := s.notify
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if s.closed.Load() {
		n.mu.Unlock()
		return nil, nil, ErrClosed
	}
	n.subs[channel] = append(n.subs[channel], ch)
	if n.db != nil && !n.started {
		n.started = true
		ctx, cancel := context.WithCancel(context.Background())
		n.stop, n.finished, n.ready = cancel, make(chan struct{}), make(chan struct{})
		go n.listen(ctx)
	}
	ready := n.ready
	n.mu.Unlock()
	if ready != nil {
		// Commits after Subscribe returns reach the subscriber.
		select {
		case <-ready:
		case <-time.After(pgListenReadyWait):
		}
	}
	cancel := func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.subs[channel] = slices.DeleteFunc(n.subs[channel], func(c chan struct{}) bool { return c == ch })
	}
	return ch, cancel, nil
}

// signal wakes the subscribers of channel ("" wakes all).
func (n *notifier) signal(channel string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, subs := range n.subs {
		if channel != "" && name != channel {
			continue
		}
		for _, c := range subs {
			select {
			case c <- struct{}{}:
			default: // a signal is already pending
			}
		}
	}
}

// close stops the LISTEN session and closes every subscriber's channel.
func (n *notifier) close() {
	n.mu.Lock()
	stop, finished := n.stop, n.finished
	n.mu.Unlock()
	if stop != nil {
		stop()
		<-finished
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, subs := range n.subs {
		for _, c := range subs {
			close(c)
		}
	}
	n.subs = map[string][]chan struct{}{}
}

// Notify implements Tx.
func (t *sqlTx) Notify(ctx context.Context, channel string) error {
	if t.done {
		return errTxDone
	}
	if t.readOnly {
		return ErrReadOnly
	}
	if err := checkChannel(channel); err != nil {
		return err
	}
	if slices.Contains(t.notes, channel) {
		return nil
	}
	if t.s.dialect == Postgres {
		// Delivered by the server when the transaction commits.
		if _, err := t.tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, t.s.notify.pgName, channel); err != nil {
			return fmt.Errorf("store: notify %s: %w", channel, err)
		}
	}
	t.notes = append(t.notes, channel)
	return nil
}

// Timings of the LISTEN session.
var (
	pgListenRetryMin = 100 * time.Millisecond
	pgListenRetryMax = 5 * time.Second
)

// listen keeps a LISTEN session open and forwards what it hears, until ctx
// is cancelled.
func (n *notifier) listen(ctx context.Context) {
	defer close(n.finished)
	wait := pgListenRetryMin
	first := true
	for ctx.Err() == nil {
		err := n.session(ctx, func() {
			if first {
				close(n.ready)
				first = false
			} else {
				// Reconnected: commits may have been missed meanwhile,
				// so everyone re-reads.
				n.signal("")
			}
			wait = pgListenRetryMin
		})
		if ctx.Err() != nil {
			return
		}
		slog.Default().Debug("store: LISTEN session ended; reconnecting", "err", err, "after", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, pgListenRetryMax)
	}
}

// session holds one connection in LISTEN until it fails or ctx ends.
func (n *notifier) session(ctx context.Context, connected func()) error {
	conn, err := n.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: the PostgreSQL driver is not pgx")
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, `LISTEN "`+n.pgName+`"`); err != nil {
			return err
		}
		defer func() {
			// The connection goes back to the pool: stop listening first.
			uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, _ = pc.Exec(uctx, `UNLISTEN *`)
		}()
		connected()
		for {
			note, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			n.signal(note.Payload)
		}
	})
}
