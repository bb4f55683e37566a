package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-gov/steward/internal/store"
)

// Work queues in Prometheus.
//
// Services that lease work from the store (compliance scans, alert
// notifications, ...) name their queue with Steward.Queue; every scrape of
// /metrics reads each queue's counts from the store, so the figures are
// the same on every replica and need no bookkeeping on the hot path.

// queueScrapeTimeout bounds the store reads of one scrape.
const queueScrapeTimeout = 2 * time.Second

type queue struct{ name, table, prefix string }

type queueCollector struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	queues []queue

	depth, leased, expired, age, up *prometheus.Desc
}

func newQueueCollector(st store.Store, log *slog.Logger) *queueCollector {
	label := []string{"queue"}
	return &queueCollector{st: st, log: log, now: time.Now,
		depth: prometheus.NewDesc("steward_queue_depth",
			"Work items in the queue: waiting, held, or waiting to be retried.", label, nil),
		leased: prometheus.NewDesc("steward_queue_leased",
			"Work items a replica holds a live lease on.", label, nil),
		expired: prometheus.NewDesc("steward_queue_expired_leases",
			"Work items whose lease ran out without being released (a crashed or stalled replica); another replica takes them over.", label, nil),
		age: prometheus.NewDesc("steward_queue_oldest_age_seconds",
			"Age of the oldest work item in the queue (0 when empty): how far the queue lags.", label, nil),
		up: prometheus.NewDesc("steward_queue_scrape_ok",
			"1 when the queue's counts could be read from the store at this scrape, else 0.", label, nil),
	}
}

func (q *queueCollector) add(name, table, prefix string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queues = append(q.queues, queue{name, table, prefix})
}

// Describe implements prometheus.Collector.
func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{q.depth, q.leased, q.expired, q.age, q.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	queues := append([]queue(nil), q.queues...)
	q.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), queueScrapeTimeout)
	defer cancel()
	for _, qu := range queues {
		st, err := q.st.QueueStats(ctx, qu.table, qu.prefix)
		if err != nil {
			q.log.Warn("reading a queue's counts for metrics failed", "queue", qu.name, "err", err)
			ch <- prometheus.MustNewConstMetric(q.up, prometheus.GaugeValue, 0, qu.name)
			continue
		}
		age := 0.0
		if !st.Oldest.IsZero() {
			age = max(0, q.now().Sub(st.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(q.up, prometheus.GaugeValue, 1, qu.name)
		ch <- prometheus.MustNewConstMetric(q.depth, prometheus.GaugeValue, float64(st.Depth), qu.name)
		ch <- prometheus.MustNewConstMetric(q.leased, prometheus.GaugeValue, float64(st.Leased), qu.name)
		ch <- prometheus.MustNewConstMetric(q.expired, prometheus.GaugeValue, float64(st.Expired), qu.name)
		ch <- prometheus.MustNewConstMetric(q.age, prometheus.GaugeValue, age, qu.name)
	}
}

// Queue names a work queue of a service for /metrics: the records of table
// whose keys start with prefix, leased with this replica's ReplicaID.
func (s *Steward) Queue(name, table, prefix string) { s.queues.add(name, table, prefix) }

// handBack gives up every lease this replica still holds, so that another
// replica takes the work at once rather than when the leases expire.
func (s *Steward) handBack() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := s.Store.ReleaseAll(ctx, s.ReplicaID)
	switch {
	case err != nil:
		s.log.Warn("handing leases back at shutdown failed; they expire on their own", "err", err)
	case n > 0:
		s.log.Info("handed leases back at shutdown", "count", n)
	}
}
