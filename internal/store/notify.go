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
	"strings"
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
// A writer may say more with Tx.NotifyPayload: subscribers of
// SubscribeNotes receive each commit's payloads, in the order they
// arrived, unless more arrive than they keep or the LISTEN session was
// re-established, which they are told (Notes.Take) and must then treat as
// "anything may have changed". On PostgreSQL a payload travels in the
// NOTIFY after the channel's name and a newline, sent at commit, and the
// transaction's payloads for a channel are followed by a NOTIFY of the
// channel's name alone: releases before payloads listen for that one,
// and this listener drops it (a transaction's notifications arrive
// together, in the order sent). A transaction that also called Notify on
// the channel sends that alone, which says more.
//
// Notifications speed caches up; they do not replace a durable record of
// the change (a generation counter in the same transaction), which a
// subscriber reads on the signal and, as a fallback, now and then.

// maxChannelLen bounds a notification channel's name.
const maxChannelLen = 64

// MaxNotePayload bounds a notification's payload (Tx.NotifyPayload);
// PostgreSQL's NOTIFY takes up to 8,000 bytes with the channel's name.
const MaxNotePayload = 4096

// maxPendingNotes is how many payloads a SubscribeNotes subscription
// keeps between two Takes; beyond it they are dropped and Take reports
// the loss.
const maxPendingNotes = 4096

func checkChannel(channel string) error {
	if channel == "" || len(channel) > maxChannelLen {
		return fmt.Errorf("%w: notification channel must be 1 to %d bytes", ErrInvalid, maxChannelLen)
	}
	if strings.IndexByte(channel, '\n') >= 0 {
		return fmt.Errorf("%w: notification channel contains a newline", ErrInvalid)
	}
	return checkText("notification channel", channel)
}

// txNote is a notification a transaction sends at commit.
type txNote struct{ channel, payload string }

// notifier fans signals out to the subscribers of this process.
type notifier struct {
	mu    sync.Mutex
	subs  map[string][]chan struct{}
	notes map[string][]*Notes

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

func newNotifier() *notifier {
	return &notifier{subs: map[string][]chan struct{}{}, notes: map[string][]*Notes{}}
}

// pgChannel is the NOTIFY channel of a schema: an identifier PostgreSQL
// accepts whatever the schema's name is.
func pgChannel(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "steward_" + hex.EncodeToString(sum[:8])
}

// Subscribe implements Store.
func (s *sqlStore) Subscribe(channel string) (<-chan struct{}, func(), error) {
	ch := make(chan struct{}, 1)
	err := s.subscribe(channel, func(n *notifier) { n.subs[channel] = append(n.subs[channel], ch) })
	if err != nil {
		return nil, nil, err
	}
	n := s.notify
	cancel := func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.subs[channel] = slices.DeleteFunc(n.subs[channel], func(c chan struct{}) bool { return c == ch })
	}
	return ch, cancel, nil
}

// Notes is a subscription that keeps each commit's payloads
// (Store.SubscribeNotes).
type Notes struct {
	// C receives a signal, as Subscribe's channel does, when notes have
	// arrived; it is closed when the store closes.
	C <-chan struct{}

	ch      chan struct{}
	mu      sync.Mutex
	pending []string
	lost    bool
	cancel  func()
}

// Take returns the payloads received since the last Take, in the order
// they arrived ("" for a commit that called Notify), and whether some
// were lost (more than the subscription keeps, or commits a re-established
// LISTEN session may have missed): then anything may have changed.
func (n *Notes) Take() (payloads []string, lost bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	payloads, lost = n.pending, n.lost
	n.pending, n.lost = nil, false
	return payloads, lost
}

// Close ends the subscription.
func (n *Notes) Close() { n.cancel() }

// add keeps a payload and signals C.
func (n *Notes) add(payload string, lost bool) {
	n.mu.Lock()
	switch {
	case lost || n.lost || len(n.pending) >= maxPendingNotes:
		n.pending, n.lost = nil, true
	default:
		n.pending = append(n.pending, payload)
	}
	n.mu.Unlock()
	select {
	case n.ch <- struct{}{}:
	default: // a signal is already pending
	}
}

// SubscribeNotes implements Store.
func (s *sqlStore) SubscribeNotes(channel string) (*Notes, error) {
	ch := make(chan struct{}, 1)
	sub := &Notes{C: ch, ch: ch}
	err := s.subscribe(channel, func(n *notifier) { n.notes[channel] = append(n.notes[channel], sub) })
	if err != nil {
		return nil, err
	}
	n := s.notify
	sub.cancel = func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.notes[channel] = slices.DeleteFunc(n.notes[channel], func(o *Notes) bool { return o == sub })
	}
	return sub, nil
}

// subscribe registers a subscriber with add (under the notifier's lock)
// and, on PostgreSQL, starts the LISTEN session and waits for it.
func (s *sqlStore) subscribe(channel string, add func(*notifier)) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	n := s.notify
	n.mu.Lock()
	if s.closed.Load() {
		n.mu.Unlock()
		return ErrClosed
	}
	add(n)
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
	return nil
}

// signal wakes the subscribers of channel with payload; channel "" wakes
// all and tells SubscribeNotes subscribers that notes were lost.
func (n *notifier) signal(channel, payload string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, subs := range n.notes {
		if channel != "" && name != channel {
			continue
		}
		for _, sub := range subs {
			sub.add(payload, channel == "")
		}
	}
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
	for _, subs := range n.notes {
		for _, sub := range subs {
			close(sub.ch)
		}
	}
	n.subs, n.notes = map[string][]chan struct{}{}, map[string][]*Notes{}
}

// Notify implements Tx.
func (t *sqlTx) Notify(ctx context.Context, channel string) error {
	return t.NotifyPayload(ctx, channel, "")
}

// NotifyPayload implements Tx.
func (t *sqlTx) NotifyPayload(ctx context.Context, channel, payload string) error {
	if t.done {
		return errTxDone
	}
	if t.readOnly {
		return ErrReadOnly
	}
	if err := checkChannel(channel); err != nil {
		return err
	}
	if len(payload) > MaxNotePayload {
		return fmt.Errorf("%w: notification payload of %d bytes exceeds %d", ErrInvalid, len(payload), MaxNotePayload)
	}
	if err := checkText("notification payload", payload); err != nil {
		return err
	}
	note := txNote{channel: channel, payload: payload}
	if slices.Contains(t.notes, note) {
		return nil
	}
	if t.s.dialect == Postgres && payload == "" {
		// Delivered by the server when the transaction commits; payloads
		// are sent just before the commit (sendPayloads).
		if _, err := t.tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, t.s.notify.pgName, channel); err != nil {
			return fmt.Errorf("store: notify %s: %w", channel, err)
		}
	}
	t.notes = append(t.notes, note)
	return nil
}

// sendPayloads sends, on PostgreSQL, the transaction's payloads of each
// channel it did not also Notify, then the channel's name alone for
// listeners of earlier releases.
func (t *sqlTx) sendPayloads(ctx context.Context) error {
	if t.s.dialect != Postgres {
		return nil
	}
	var closing []string
	for _, n := range t.notes {
		if n.payload == "" || slices.Contains(t.notes, txNote{channel: n.channel}) {
			continue
		}
		if _, err := t.tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, t.s.notify.pgName, n.channel+"\n"+n.payload); err != nil {
			return fmt.Errorf("store: notify %s: %w", n.channel, err)
		}
		if !slices.Contains(closing, n.channel) {
			closing = append(closing, n.channel)
		}
	}
	for _, ch := range closing {
		if _, err := t.tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, t.s.notify.pgName, ch); err != nil {
			return fmt.Errorf("store: notify %s: %w", ch, err)
		}
	}
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
				n.signal("", "")
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
		// Channels whose payloads came last: the channel's name alone
		// that follows them is for earlier releases (sendPayloads).
		closing := map[string]bool{}
		for {
			note, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			channel, payload, ok := strings.Cut(note.Payload, "\n")
			switch {
			case ok:
				closing[channel] = true
			case closing[channel]:
				delete(closing, channel)
				continue
			}
			n.signal(channel, payload)
		}
	})
}
