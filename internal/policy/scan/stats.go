package scan

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Stats is where a scan's time went, for --stats. The phases overlap
// (records are parsed while earlier ones are evaluated), so they do not add
// up to Total; Evaluate is summed over the workers and may exceed it.
type Stats struct {
	// Load is the time spent before the scan reading and compiling the
	// definitions (and the alias table chunks they name); the caller that
	// loads the plan sets it. It is not part of Total.
	Load time.Duration
	// Read is the time spent reading the estate (both passes).
	Read time.Duration
	// Parse is the reader's time splitting the input into records (both
	// passes), decoding them in the first pass and indexing the related
	// resources.
	Parse time.Duration
	// Evaluate is the workers' time, summed: decoding the records of the
	// second pass and evaluating them.
	Evaluate time.Duration
	// Report is the time spent handing results to the output.
	Report time.Duration
	// Total is the scan's wall time.
	Total   time.Duration
	Workers int
	// Records is how many records the evaluation pass read.
	Records int64
}

// String is the one-line summary --stats prints.
func (s *Stats) String() string {
	load := ""
	if s.Load > 0 {
		load = fmt.Sprintf(" (after %s loading the policies)", round(s.Load))
	}
	return fmt.Sprintf("stats: %d records in %s%s: read %s, parse %s, evaluate %s (summed over %d workers), report %s",
		s.Records, round(s.Total), load, round(s.Read), round(s.Parse), round(s.Evaluate), s.Workers, round(s.Report))
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// statClock collects a scan's phase times; the zero value is off (nil
// receiver), so the scan code calls it unconditionally.
type statClock struct {
	read, parse, eval, report atomic.Int64
}

// addEval and addReport count the time since start (nothing when off).
func (c *statClock) addEval(start time.Time) {
	if c != nil {
		c.eval.Add(int64(time.Since(start)))
	}
}

func (c *statClock) addReport(start time.Time) {
	if c != nil {
		c.report.Add(int64(time.Since(start)))
	}
}

// timedReader counts the time spent in Read.
type timedReader struct {
	r io.Reader
	c *statClock
}

func (t timedReader) Read(p []byte) (int, error) {
	start := time.Now()
	n, err := t.r.Read(p)
	t.c.read.Add(int64(time.Since(start)))
	return n, err
}

// reader wraps r to count its read time (r itself when off).
func (c *statClock) reader(r io.Reader) io.Reader {
	if c == nil {
		return r
	}
	return timedReader{r: r, c: c}
}
