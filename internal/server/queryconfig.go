package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
)

// QueryConfig sizes the KQL query governor of the logs query API (see
// docs/kql.md, "Limits"). Zero fields take the engine's defaults.
type QueryConfig struct {
	// MaxConcurrent is the number of queries running at once
	// (kql.DefaultConcurrentQueries: twice the processors); MaxQueued more
	// wait in a queue (40) for at most QueueWait (2.5 minutes), and the
	// rest are answered 429.
	MaxConcurrent int           `yaml:"maxConcurrent"`
	MaxQueued     int           `yaml:"maxQueued"`
	QueueWait     time.Duration `yaml:"queueWait"`
	// MemoryBytes is each query's memory budget (256 MiB).
	MemoryBytes int64 `yaml:"memoryBytes"`
	// MaxWait is the longest time budget a Prefer: wait header may ask for
	// (10 minutes, as Log Analytics).
	MaxWait time.Duration `yaml:"maxWait"`
}

func init() {
	envVars = append(envVars,
		struct {
			name string
			set  func(c *Config, v string) error
		}{"STEWARD_QUERY_MAX_CONCURRENT", func(c *Config, v string) (err error) {
			c.Queries.MaxConcurrent, err = strconv.Atoi(v)
			return
		}},
		struct {
			name string
			set  func(c *Config, v string) error
		}{"STEWARD_QUERY_MEMORY_BYTES", func(c *Config, v string) (err error) {
			c.Queries.MemoryBytes, err = strconv.ParseInt(v, 10, 64)
			return
		}},
	)
}

// validate reports the fields out of range.
func (q QueryConfig) validate() []error {
	var errs []error
	if q.MaxConcurrent < 0 || q.MaxQueued < 0 || q.QueueWait < 0 || q.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("queries: sizes and durations must not be negative"))
	}
	if q.MemoryBytes != 0 && q.MemoryBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("queries: memory budget %d: at least 1 MiB", q.MemoryBytes))
	}
	return errs
}

// limits are the governor's limits for the query API.
func (q QueryConfig) limits() kql.Limits { return kql.Limits{MaxMemory: q.MemoryBytes} }

// gate is the bound on concurrent queries.
func (q QueryConfig) gate() *kql.Gate { return kql.NewGate(q.MaxConcurrent, q.MaxQueued, q.QueueWait) }
