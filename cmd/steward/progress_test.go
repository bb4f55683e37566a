package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	var off syncBuffer
	stop := showProgress(&off, false, time.Millisecond, "evaluating", nil)
	time.Sleep(20 * time.Millisecond)
	stop()
	if off.String() != "" {
		t.Errorf("progress written when not on a terminal: %q", off.String())
	}

	var on syncBuffer
	stop = showProgress(&on, true, time.Millisecond, "evaluating /subscriptions/x", func(time.Duration) string { return "42 resources" })
	for i := 0; i < 2000 && !strings.Contains(on.String(), "42 resources"); i++ {
		time.Sleep(time.Millisecond)
	}
	stop()
	stop() // a second stop is harmless
	out := on.String()
	if !strings.Contains(out, "evaluating /subscriptions/x: 42 resources") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("progress line: %q", out)
	}
	// Commands run in tests write to buffers, never a terminal.
	cmd := newRootCmd()
	cmd.SetErr(&on)
	if stderrIsTerminal(cmd) {
		t.Error("a buffer counts as a terminal")
	}
}
