package kql

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// Gate bounds how many queries run at once: up to Running at a time, up
// to Queued more waiting in arrival order, each for at most QueueWait.
// Past the queue, or after waiting too long, Enter fails with ErrThrottled
// (Log Analytics answers 429 in both cases). A Gate is safe for concurrent
// use; one is shared by everything that runs queries in a process.
type Gate struct {
	sem       chan struct{}
	queueWait time.Duration

	mu        sync.Mutex
	queued    int
	maxQueued int
}

// ErrThrottled is returned by Gate.Enter when the queue is full or the
// wait in it ran out.
var ErrThrottled = errors.New("too many queries are running; retry later")

// Default gate sizes: twice the processors running (queries mostly wait on
// the store or the CPU), and Log Analytics' queue of 40 waiting 2.5 minutes.
const (
	DefaultQueryQueue     = 40
	DefaultQueryQueueWait = 150 * time.Second
)

// DefaultConcurrentQueries is the default number of queries running at
// once: twice GOMAXPROCS, at least 2.
func DefaultConcurrentQueries() int { return max(2, 2*runtime.GOMAXPROCS(0)) }

// NewGate returns a gate; zero arguments take the defaults.
func NewGate(running, queued int, queueWait time.Duration) *Gate {
	if running <= 0 {
		running = DefaultConcurrentQueries()
	}
	if queued <= 0 {
		queued = DefaultQueryQueue
	}
	if queueWait <= 0 {
		queueWait = DefaultQueryQueueWait
	}
	return &Gate{sem: make(chan struct{}, running), queueWait: queueWait, maxQueued: queued}
}

// Enter waits for a running slot. It returns the function that gives the
// slot back, or ErrThrottled, or the context's error when ctx ends first.
func (g *Gate) Enter(ctx context.Context) (release func(), err error) {
	select {
	case g.sem <- struct{}{}:
		return g.release, nil
	default:
	}
	g.mu.Lock()
	if g.queued >= g.maxQueued {
		g.mu.Unlock()
		return nil, ErrThrottled
	}
	g.queued++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.queued--
		g.mu.Unlock()
	}()
	t := time.NewTimer(g.queueWait)
	defer t.Stop()
	select {
	case g.sem <- struct{}{}:
		return g.release, nil
	case <-t.C:
		return nil, ErrThrottled
	case <-ctx.Done():
		return nil, ctxLimitError(ctx.Err())
	}
}

func (g *Gate) release() { <-g.sem }
