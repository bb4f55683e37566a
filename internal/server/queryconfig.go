package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
)

// QueryConfig sizes the KQL query governor of the logs query API (see
// docs/kql.md, "Limits"), and names the IP geolocation database of
// geo_info_from_ip_address. Zero fields take the engine's defaults.
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
	// GeoIPDB is a MaxMind DB (.mmdb) city database (GeoLite2-City,
	// GeoIP2-City, DB-IP City) that geo_info_from_ip_address reads; it is
	// read once at start, and a file that cannot be used stops the start.
	// Empty: the function is refused with an error saying how to set it.
	GeoIPDB string `yaml:"geoipDb"`
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
		struct {
			name string
			set  func(c *Config, v string) error
		}{"STEWARD_GEOIP_DB", func(c *Config, v string) error { c.Queries.GeoIPDB = v; return nil }},
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

// GeoIPError is Open's error when the IP geolocation database of
// Queries.GeoIPDB cannot be used (missing, unreadable, not an MMDB city
// database). Nothing was created then.
type GeoIPError struct{ Err error }

// Error says which setting names the database, and why it was refused.
func (e *GeoIPError) Error() string {
	return fmt.Sprintf("--geoip-db (STEWARD_GEOIP_DB, queries.geoipDb in the config file): %v", e.Err)
}

// Unwrap returns the cause.
func (e *GeoIPError) Unwrap() error { return e.Err }

// openGeoIP reads the database Queries.GeoIPDB names, or returns nil when
// none is named.
func (q QueryConfig) openGeoIP() (*kql.GeoIPDB, error) {
	if q.GeoIPDB == "" {
		return nil, nil
	}
	db, err := kql.OpenGeoIPDB(q.GeoIPDB)
	if err != nil {
		return nil, &GeoIPError{Err: err}
	}
	return db, nil
}

// gate is the bound on concurrent queries.
func (q QueryConfig) gate() *kql.Gate { return kql.NewGate(q.MaxConcurrent, q.MaxQueued, q.QueueWait) }
