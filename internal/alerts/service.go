package alerts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/store"
)

// Store tables of the alerts app.
const (
	tableState     = "alerts.state"
	tableHealth    = "alerts.health"
	tableInstances = "alerts.instances"
	tableOutbox    = OutboxTable
)

// RawResource is an ARM resource as a source lists it: its ID and JSON.
type RawResource struct {
	ID   string
	Body []byte
}

// Source is where the evaluator reads rules and action groups: ARM through
// the Azure SDK, in Steward or in Azure.
type Source interface {
	// Rules lists every scheduled query rule the evaluator may run.
	Rules(ctx context.Context) ([]RawResource, error)
	// ActionGroup reads one action group.
	ActionGroup(ctx context.Context, id string) ([]byte, error)
}

// QueryFunc runs query on a workspace (its ARM resource ID) over
// [start, end) and returns the primary result. It runs under the query
// service's limits; an error is recorded in the rule's health.
type QueryFunc func(ctx context.Context, workspace, query string, start, end time.Time) (*Table, error)

// Options configure a Service.
type Options struct {
	Store  store.Store
	Source Source
	Query  QueryFunc
	// QueryBase is the query API's base URL, for the payloads' links.
	QueryBase string
	Mailer    Mailer
	// HTTP posts to webhooks; nil uses a client with a 10 s timeout.
	HTTP *http.Client
	// Now and NewID are injected for tests; nil uses the clock and UUIDs.
	Now   func() time.Time
	NewID func() string
	// Owner names this replica in leases; nil picks a random one.
	Owner string
	// Workers evaluate rules in parallel (default 4).
	Workers int
	// RefreshEvery is how often the rule list is re-read (default 30 s).
	RefreshEvery time.Duration
	Log          *slog.Logger
}

// Service evaluates rules and delivers their notifications.
type Service struct {
	opts Options

	mu          sync.Mutex
	rules       map[string]*Rule
	ruleErrors  map[string]string
	refreshedAt time.Time
	suppressed  map[string]time.Time
	// lag records how far behind schedule each evaluation finished;
	// tickWall is the wall time the current tick started.
	lag      []time.Duration
	tickWall time.Time
}

// New returns a Service for opts.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Source == nil || opts.Query == nil {
		return nil, errors.New("alerts: Store, Source and Query are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = func() string { return uuid.NewString() }
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Mailer == nil {
		opts.Mailer = SMTPMailer{}
	}
	if opts.Owner == "" {
		var b [8]byte
		rand.Read(b[:])
		opts.Owner = "alerts-" + hex.EncodeToString(b[:])
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, rules: map[string]*Rule{}, ruleErrors: map[string]string{}, suppressed: map[string]time.Time{}}, nil
}

// Health is what the evaluator records of a rule after each evaluation.
type Health struct {
	RuleID string `json:"ruleId"`
	// LastEvaluated is the scheduled time of the last evaluation (done or
	// failed): the watermark that keeps a due time from running twice.
	LastEvaluated time.Time `json:"lastEvaluated,omitzero"`
	// LastRun is when it finished; LastError what went wrong, if anything.
	LastRun             time.Time `json:"lastRun,omitzero"`
	LastError           string    `json:"lastError,omitempty"`
	ConsecutiveFailures int       `json:"consecutiveFailures"`
	// RetryAfter holds back a failing rule: it is not retried before.
	RetryAfter time.Time `json:"retryAfter,omitzero"`
	// Series is how many dimension combinations the last run measured;
	// Fired how many alerts are open.
	Series int `json:"series"`
	Fired  int `json:"fired"`
}

// Refresh re-reads the rules from the source.
func (s *Service) Refresh(ctx context.Context) error {
	list, err := s.opts.Source.Rules(ctx)
	if err != nil {
		return fmt.Errorf("alerts: list rules: %w", err)
	}
	rules := make(map[string]*Rule, len(list))
	errs := map[string]string{}
	for _, raw := range list {
		r, err := ParseRule(raw.ID, raw.Body)
		if err != nil {
			errs[key(raw.ID)] = err.Error()
			continue
		}
		rules[key(raw.ID)] = r
	}
	s.mu.Lock()
	s.rules, s.ruleErrors, s.refreshedAt = rules, errs, s.opts.Now()
	s.mu.Unlock()
	return nil
}

// Run evaluates and delivers until ctx ends, checking every second.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.opts.Log.Warn("alerts tick", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick refreshes the rules when they are stale, evaluates every enabled
// rule that is due, and delivers the notifications that are due.
func (s *Service) Tick(ctx context.Context) error {
	now := s.opts.Now()
	s.mu.Lock()
	s.tickWall = time.Now()
	stale := now.Sub(s.refreshedAt) >= s.opts.RefreshEvery
	s.mu.Unlock()
	if stale {
		if err := s.Refresh(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	var due []*Rule
	for _, r := range s.rules {
		if r.Enabled {
			due = append(due, r)
		}
	}
	s.mu.Unlock()
	work := make(chan *Rule)
	var wg sync.WaitGroup
	for range min(s.opts.Workers, max(len(due), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				if _, err := s.Evaluate(ctx, r, now); err != nil && ctx.Err() == nil {
					s.opts.Log.Warn("alerts: evaluate", "rule", r.ID, "error", err)
				}
			}
		}()
	}
	for _, r := range due {
		work <- r
	}
	close(work)
	wg.Wait()
	return s.Deliver(ctx)
}

// DueTime is the scheduled evaluation time of r at or before now: times
// are aligned to the rule's frequency.
func DueTime(r *Rule, now time.Time) time.Time { return now.UTC().Truncate(r.Frequency) }

// Evaluate runs r for its due time at now, unless that time was already
// evaluated (by this replica or another), and records the result. It
// reports whether it evaluated.
func (s *Service) Evaluate(ctx context.Context, r *Rule, now time.Time) (bool, error) {
	due := DueTime(r, now)
	lock, ok, err := s.opts.Store.TryLock(ctx, "alerts/rule/"+key(r.ID))
	if err != nil || !ok {
		return false, err
	}
	defer lock.Release(context.WithoutCancel(ctx))
	h, err := s.health(ctx, r.ID)
	if err != nil {
		return false, err
	}
	if !h.LastEvaluated.Before(due) || now.Before(h.RetryAfter) {
		return false, nil
	}
	start := due.Add(-r.Range)
	h.LastEvaluated, h.RuleID = due, r.ID
	table, qerr := s.opts.Query(ctx, r.Scopes[0], r.Query, start, due)
	var series []Series
	if qerr == nil {
		series, qerr = Measure(r, table, due)
	}
	if qerr != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		h.LastRun, h.LastError = s.opts.Now(), qerr.Error()
		h.ConsecutiveFailures++
		// A failing rule is not retried hot: it waits for its next due
		// time, and longer as failures repeat (up to an hour).
		backoff := r.Frequency * time.Duration(1<<min(h.ConsecutiveFailures-1, 6))
		h.RetryAfter = due.Add(min(backoff, max(time.Hour, r.Frequency)))
		return true, s.putHealth(ctx, h)
	}
	groups := s.groups(ctx, r)
	return true, s.opts.Store.Update(ctx, func(tx store.Tx) error {
		prev, err := loadStates(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		fired := 0
		apply := func(p *SeriesState, m *Series) error {
			next, ev := Step(r, p, m, due, s.opts.NewID)
			k := key(r.ID) + "/" + seriesKeyOf(p, m)
			switch {
			case next == nil && p != nil:
				if err := tx.Delete(ctx, tableState, k, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			case next != nil:
				b, _ := json.Marshal(next)
				if _, err := tx.Put(ctx, tableState, k, b, store.Cond{}); err != nil {
					return err
				}
				if next.Condition == Fired {
					fired++
				}
			}
			if ev != nil {
				return s.record(ctx, tx, r, ev, start, due, groups)
			}
			return nil
		}
		for i := range series {
			seen[series[i].Key] = true
			if err := apply(prev[series[i].Key], &series[i]); err != nil {
				return err
			}
		}
		for k, p := range prev {
			if !seen[k] {
				if err := apply(p, nil); err != nil {
					return err
				}
			}
		}
		h.LastRun, h.LastError, h.ConsecutiveFailures, h.RetryAfter = s.opts.Now(), "", 0, time.Time{}
		h.Series, h.Fired = len(series), fired
		if len(groups.missing) > 0 {
			h.LastError = "action groups not found: " + strings.Join(groups.missing, ", ")
		}
		b, _ := json.Marshal(h)
		_, err = tx.Put(ctx, tableHealth, key(r.ID), b, store.Cond{})
		s.mu.Lock()
		// Behind schedule: how late the tick was, plus how long it has
		// run (in wall time, whatever the injected clock says).
		wall := s.tickWall
		if wall.IsZero() {
			wall = time.Now()
		}
		s.lag = append(s.lag, now.Sub(due)+time.Since(wall))
		s.mu.Unlock()
		return err
	})
}

func seriesKeyOf(p *SeriesState, m *Series) string {
	if m != nil {
		return m.Key
	}
	return p.Key
}

type ruleGroups struct {
	groups  []*ActionGroup
	missing []string
}

// groups reads the rule's action groups through the source.
func (s *Service) groups(ctx context.Context, r *Rule) ruleGroups {
	var out ruleGroups
	for _, id := range r.ActionGroups {
		b, err := s.opts.Source.ActionGroup(ctx, id)
		if err != nil {
			out.missing = append(out.missing, id)
			continue
		}
		g, err := ParseActionGroup(id, b)
		if err != nil {
			out.missing = append(out.missing, id)
			continue
		}
		out.groups = append(out.groups, g)
	}
	return out
}

// record writes an event's alert instance and queues its notifications,
// in the evaluation's transaction.
func (s *Service) record(ctx context.Context, tx store.Tx, r *Rule, ev *Event, start, end time.Time, groups ruleGroups) error {
	n := &Notification{Rule: r, Event: *ev, WindowStart: start, WindowEnd: end, QueryBase: s.opts.QueryBase}
	common := n.CommonSchema()
	inst, err := getInstance(ctx, tx, ev.AlertID)
	if errors.Is(err, store.ErrNotFound) {
		inst = newInstance(r, ev, n.target())
	} else if err != nil {
		return err
	}
	inst.MonitorCondition = ev.Condition
	inst.Modified = end
	if ev.Condition == Resolved {
		inst.Resolved = ev.ResolvedAt
	}
	inst.Suppressed = ev.Muted
	var ctxDoc map[string]any
	if err := json.Unmarshal(common, &ctxDoc); err == nil {
		if data, ok := ctxDoc["data"].(map[string]any); ok {
			inst.Context = data["alertContext"]
		}
	}
	if err := putInstance(ctx, tx, inst); err != nil {
		return err
	}
	if ev.Muted {
		return nil
	}
	legacy := n.LegacySchema()
	for _, g := range groups.groups {
		if !g.Enabled {
			continue
		}
		for _, rc := range g.Receivers {
			d := Delivery{Key: strings.Join([]string{ev.AlertID, ev.Condition, key(g.ID), strings.ToLower(rc.Name)}, "|"),
				Kind: rc.Kind, URL: rc.URL, Email: rc.Email, State: Pending, Next: end}
			d.Payload = legacy
			if rc.CommonSchema {
				d.Payload = common
			}
			if rc.Kind == ReceiverEmail {
				d.Subject, d.Payload = emailSubject(n), emailBody(n, d.Payload)
			}
			b, _ := json.Marshal(d)
			if _, err := tx.Put(ctx, tableOutbox, outboxKey(d.Key), b, store.Cond{}); err != nil {
				return err
			}
		}
	}
	return nil
}

func outboxKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return "p/" + hex.EncodeToString(sum[:16])
}

// Deliver attempts every queued notification that is due, leasing each so
// that replicas never post the same one at once.
func (s *Service) Deliver(ctx context.Context) error {
	for {
		leases, err := s.opts.Store.Acquire(ctx, tableOutbox, "p/", s.opts.Owner, time.Minute, 100)
		if err != nil {
			return err
		}
		if len(leases) == 0 {
			return nil
		}
		progressed := false
		for _, l := range leases {
			var d Delivery
			if err := json.Unmarshal(l.Value, &d); err != nil {
				return err
			}
			now := s.opts.Now()
			if now.Before(d.Next) || now.Before(s.suppressedUntil(d.URL)) {
				s.opts.Store.Release(ctx, tableOutbox, l.Key, s.opts.Owner)
				continue
			}
			progressed = true
			retry, err := s.attempt(ctx, &d)
			d.Attempts++
			switch {
			case err == nil:
				d.State, d.Delivered, d.LastError = Delivered, s.opts.Now(), ""
			case retry && d.Attempts <= len(retryDelays):
				d.LastError, d.Next = err.Error(), s.opts.Now().Add(retryDelays[d.Attempts-1])
			default:
				d.State, d.LastError = Failed, err.Error()
				if d.Kind == ReceiverWebhook {
					s.suppress(d.URL)
				}
			}
			if err := s.finish(ctx, l.Key, &d); err != nil {
				return err
			}
		}
		if !progressed {
			return nil
		}
	}
}

// finish stores a delivery's outcome: pending ones stay under "p/", done
// ones move to "d/" (delivered) or "f/" (failed) for inspection.
func (s *Service) finish(ctx context.Context, k string, d *Delivery) error {
	b, _ := json.Marshal(d)
	if d.State == Pending {
		if err := s.opts.Store.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put(ctx, tableOutbox, k, b, store.Cond{})
			return err
		}); err != nil {
			return err
		}
		if err := s.opts.Store.Release(ctx, tableOutbox, k, s.opts.Owner); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			return err
		}
		return nil
	}
	return s.opts.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, tableOutbox, k, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		prefix := "d/"
		if d.State == Failed {
			prefix = "f/"
		}
		_, err := tx.Put(ctx, tableOutbox, prefix+strings.TrimPrefix(k, "p/"), b, store.Cond{})
		return err
	})
}

func (s *Service) suppressedUntil(url string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.suppressed[url]
}

func (s *Service) suppress(url string) {
	s.mu.Lock()
	s.suppressed[url] = s.opts.Now().Add(suppressFor)
	s.mu.Unlock()
}

// Deliveries lists the outbox: pending, delivered and failed
// notifications.
func (s *Service) Deliveries(ctx context.Context) ([]Delivery, error) {
	var out []Delivery
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		return scanAll(ctx, tx, tableOutbox, "", func(v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// RuleHealth returns what the evaluator recorded of a rule.
func (s *Service) RuleHealth(ctx context.Context, ruleID string) (Health, error) {
	h, err := s.health(ctx, ruleID)
	s.mu.Lock()
	if msg, bad := s.ruleErrors[key(ruleID)]; bad {
		h.LastError = msg
	}
	s.mu.Unlock()
	return h, err
}

// Lags returns and clears the recorded evaluation lags.
func (s *Service) Lags() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lag
	s.lag = nil
	return l
}

func (s *Service) health(ctx context.Context, ruleID string) (Health, error) {
	var h Health
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableHealth, key(ruleID))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &h)
	})
	return h, err
}

func (s *Service) putHealth(ctx context.Context, h Health) error {
	b, _ := json.Marshal(h)
	return s.opts.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableHealth, key(h.RuleID), b, store.Cond{})
		return err
	})
}

func loadStates(ctx context.Context, tx store.Tx, ruleID string) (map[string]*SeriesState, error) {
	out := map[string]*SeriesState{}
	err := scanAll(ctx, tx, tableState, key(ruleID)+"/", func(v []byte) error {
		var st SeriesState
		if err := json.Unmarshal(v, &st); err != nil {
			return err
		}
		out[st.Key] = &st
		return nil
	})
	return out, err
}

func scanAll(ctx context.Context, tx store.Tx, table, prefix string, fn func([]byte) error) error {
	q := store.Query{Prefix: prefix, Limit: store.MaxPageSize}
	for {
		page, err := tx.Scan(ctx, table, q)
		if err != nil {
			return err
		}
		for _, rec := range page.Records {
			if err := fn(rec.Value); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
	}
}

// key folds an ARM ID for use as a store key: IDs compare
// case-insensitively.
func key(id string) string { return strings.ToLower(id) }

// The notification outbox, for operators' metrics: pending deliveries are
// the records of OutboxTable under OutboxPending.
const (
	OutboxTable   = "alerts.outbox"
	OutboxPending = "p/"
)
