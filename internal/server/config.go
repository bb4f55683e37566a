package server

import (
	"github.com/steward-gov/steward/internal/cloud"

	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-gov/steward/internal/seal"
)

// Config is the configuration of `steward serve`. Values come, in rising
// precedence, from [DefaultConfig], a YAML config file, STEWARD_*
// environment variables and command-line flags.
type Config struct {
	// DataDir holds the store (SQLite), the CA, bootstrap.json and the
	// administrator's certificate.
	DataDir string `yaml:"data"`
	// Listen is the TCP address to serve on.
	Listen string `yaml:"listen"`
	// StoreURL selects the store: "sqlite:PATH" or "postgres://...". Empty
	// means SQLite at DATA/steward.db.
	StoreURL string `yaml:"store"`
	// PublicURL is the base URL clients use; it becomes the authority host
	// and the ARM endpoint. Empty means https://localhost:PORT/.
	PublicURL string `yaml:"publicUrl"`
	// InsecureHTTP serves plain HTTP instead of HTTPS (for a TLS-terminating
	// proxy in front). The Azure SDKs refuse bearer tokens over plain HTTP.
	InsecureHTTP bool `yaml:"insecureHttp"`
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// ShutdownTimeout bounds the graceful shutdown on SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	// TokenLifetime is the lifetime of issued access tokens.
	TokenLifetime time.Duration `yaml:"tokenLifetime"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"logLevel"`
	// Proxy is the address of the forward proxy for Azure's host names
	// (see [Proxy]): "auto" (the default) listens on the main address's
	// host at the next port (127.0.0.1:8444 next to 127.0.0.1:8443; port 0
	// when the main port is 0), "" turns the proxy off.
	Proxy string `yaml:"proxy"`
	// ProxyAllow lists the client networks (CIDR prefixes or addresses)
	// allowed to use the proxy; empty means loopback clients only.
	ProxyAllow []string `yaml:"proxyAllow"`
	// RootKeyFile is the root key that seals every secret at rest (signing
	// keys, workspace keys, vault values). Empty means steward/root.key in
	// the user's configuration directory, outside the data directory; the
	// STEWARD_ROOT_KEY variable, when set, wins over any file.
	RootKeyFile string `yaml:"rootKeyFile"`
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers.
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	// BodyReadTimeout bounds how long a client may take to send a request's
	// body, counted from the end of its headers.
	BodyReadTimeout time.Duration `yaml:"bodyReadTimeout"`
	// MaxConnsPerIP caps the open connections from one client address;
	// further connections are closed at once. 0 means no cap.
	MaxConnsPerIP int `yaml:"maxConnsPerIp"`
	// Queries sizes the KQL query governor.
	Queries QueryConfig `yaml:"queries"`
	// ARMRateLimits replaces ARM's per-principal throttling buckets (nil:
	// Azure's published figures); see armlimits.go.
	ARMRateLimits *cloud.RateLimits `yaml:"armRateLimits"`
}

// ProxyAuto is the Proxy value that puts the proxy next to the main port.
const ProxyAuto = "auto"

// DefaultConfig returns the defaults: data in DefaultDataDir, HTTPS on
// 127.0.0.1:8443, SQLite, 4 MiB bodies, 15 s shutdown, 1 h tokens, 10 s to
// send headers and 1 min to send a body, 256 connections per client
// address.
func DefaultConfig() Config {
	return Config{
		DataDir:         DefaultDataDir(),
		Listen:          "127.0.0.1:8443",
		MaxBodyBytes:    4 << 20,
		ShutdownTimeout: 15 * time.Second,
		TokenLifetime:   time.Hour,
		LogLevel:        "info",
		Proxy:           ProxyAuto,

		ReadHeaderTimeout: 10 * time.Second,
		BodyReadTimeout:   time.Minute,
		MaxConnsPerIP:     256,
	}
}

// LoadFile overlays the fields set in a YAML config file. Unknown keys
// are an error, so typos do not pass silently.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(b) > 1<<20 {
		return fmt.Errorf("config %s: larger than 1 MiB", path)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// envVars maps STEWARD_* variables to the fields they set.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"STEWARD_DATA", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"STEWARD_LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"STEWARD_STORE", func(c *Config, v string) error { c.StoreURL = v; return nil }},
	{"STEWARD_PUBLIC_URL", func(c *Config, v string) error { c.PublicURL = v; return nil }},
	{"STEWARD_INSECURE_HTTP", func(c *Config, v string) (err error) { c.InsecureHTTP, err = strconv.ParseBool(v); return }},
	{"STEWARD_MAX_BODY_BYTES", func(c *Config, v string) (err error) { c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64); return }},
	{"STEWARD_SHUTDOWN_TIMEOUT", func(c *Config, v string) (err error) { c.ShutdownTimeout, err = time.ParseDuration(v); return }},
	{"STEWARD_TOKEN_LIFETIME", func(c *Config, v string) (err error) { c.TokenLifetime, err = time.ParseDuration(v); return }},
	{"STEWARD_LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"STEWARD_PROXY", func(c *Config, v string) error { c.Proxy = v; return nil }},
	{"STEWARD_PROXY_ALLOW", func(c *Config, v string) error { c.ProxyAllow = strings.Split(v, ","); return nil }},
	{"STEWARD_ROOT_KEY_FILE", func(c *Config, v string) error { c.RootKeyFile = v; return nil }},
	{"STEWARD_READ_HEADER_TIMEOUT", func(c *Config, v string) (err error) { c.ReadHeaderTimeout, err = time.ParseDuration(v); return }},
	{"STEWARD_BODY_READ_TIMEOUT", func(c *Config, v string) (err error) { c.BodyReadTimeout, err = time.ParseDuration(v); return }},
	{"STEWARD_MAX_CONNS_PER_IP", func(c *Config, v string) (err error) { c.MaxConnsPerIP, err = strconv.Atoi(v); return }},
}

// LoadEnv overlays the STEWARD_* variables that lookup finds (pass
// os.LookupEnv).
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	for _, e := range envVars {
		if v, ok := lookup(e.name); ok {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("%s=%q: %w", e.name, v, err)
			}
		}
	}
	return nil
}

// Validate checks the configuration and reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is required (--data or STEWARD_DATA)"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.Listen, err))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("public URL %q must be an absolute http(s) URL without a path", c.PublicURL))
		}
	}
	if c.StoreURL != "" && !strings.HasPrefix(c.StoreURL, "sqlite:") && !strings.HasPrefix(c.StoreURL, "postgres://") &&
		!strings.HasPrefix(c.StoreURL, "postgresql://") {
		errs = append(errs, fmt.Errorf("store URL %q: want sqlite:PATH or postgres://...", c.StoreURL))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max body bytes %d: at least 1024", c.MaxBodyBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown timeout must be positive"))
	}
	if c.TokenLifetime < 5*time.Minute || c.TokenLifetime > 24*time.Hour {
		errs = append(errs, fmt.Errorf("token lifetime %v: between 5m and 24h", c.TokenLifetime))
	}
	if c.Proxy != "" && c.Proxy != ProxyAuto {
		if _, _, err := net.SplitHostPort(c.Proxy); err != nil {
			errs = append(errs, fmt.Errorf("proxy address %q: %w (or \"auto\", or \"\" to turn the proxy off)", c.Proxy, err))
		}
	}
	if _, err := ParseAllow(c.ProxyAllow); err != nil {
		errs = append(errs, err)
	}
	if c.ReadHeaderTimeout <= 0 || c.BodyReadTimeout <= 0 {
		errs = append(errs, errors.New("read header and body timeouts must be positive"))
	}
	if c.MaxConnsPerIP < 0 {
		errs = append(errs, fmt.Errorf("max connections per IP %d: 0 (no cap) or more", c.MaxConnsPerIP))
	}
	errs = append(errs, c.Queries.validate()...)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// KeySource says where the root key comes from: STEWARD_ROOT_KEY (or the
// older STEWARD_VAULT_ROOT_KEY) when lookup finds it, else RootKeyFile or
// the default key file under the user's configuration directory. Without
// one (no $HOME), the key file sits beside the data directory
// (".NAME-root.key" next to the data directory NAME), still outside it.
func (c *Config) KeySource(lookup func(string) (string, bool)) seal.KeySource {
	fallback := ""
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		fallback = filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+"-root.key")
	}
	return seal.KeySource{File: c.RootKeyFile, Lookup: lookup, Fallback: fallback}
}

// Store returns the store URL, defaulting to SQLite in the data directory.
func (c *Config) Store() string {
	if c.StoreURL != "" {
		return c.StoreURL
	}
	return "sqlite:" + filepath.Join(c.DataDir, "steward.db")
}

// ProxyAddr returns the address the proxy listens on for a main listener
// at addr (its actual address), or "" when the proxy is off.
func (c *Config) ProxyAddr(addr string) string {
	if c.Proxy != ProxyAuto {
		return c.Proxy
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	n, err := strconv.Atoi(port)
	if err != nil || n == 0 || n >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// BaseURL returns the public base URL with a trailing slash, for a server
// listening on addr (the actual address, which matters with port 0).
func (c *Config) BaseURL(addr string) string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/") + "/"
	}
	scheme := "https"
	if c.InsecureHTTP {
		scheme = "http"
	}
	_, port, _ := net.SplitHostPort(addr)
	return scheme + "://localhost:" + port + "/"
}
