package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/alerts"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/cloud/solutions"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
)

func init() { register(newServeCmd) }

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the embedded cloud: token service, management API and the governance apps",
		Long: `serve starts Steward's embedded, Azure-compatible cloud on one HTTPS port.

On first start it creates the data directory, a local certificate authority
(trust it with SSL_CERT_FILE / REQUESTS_CA_BUNDLE, see "steward ca print"),
a SQLite store, a home tenant with an administrator service principal, and
DATA/bootstrap.json with its credentials ("steward env" turns them into
environment variables for the Azure SDKs).

Configuration comes from, in rising precedence: defaults, a YAML file
(--config or STEWARD_CONFIG), STEWARD_* environment variables, and flags.
Next to the main port (127.0.0.1:8444 by default, --proxy) runs a forward
proxy for Azure's own host names: with HTTPS_PROXY pointing at it (steward
env), unmodified programs that call management.azure.com,
login.microsoftonline.com or {vault}.vault.azure.net reach this Steward.
It refuses every other host and never dials out.

SIGINT or SIGTERM shuts the server down gracefully.`,
		Args: cobra.NoArgs,
		RunE: runServe,
	}
	f := cmd.Flags()
	f.String("config", "", "YAML config file (also STEWARD_CONFIG)")
	f.String("data", "", "data directory (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	f.String("listen", "", "listen address (also STEWARD_LISTEN; default 127.0.0.1:8443)")
	f.String("store", "", "store URL: sqlite:PATH or postgres://... (also STEWARD_STORE; default SQLite in the data directory)")
	f.String("public-url", "", "base URL clients use (also STEWARD_PUBLIC_URL; default https://localhost:PORT/)")
	f.Bool("insecure-http", false, "serve plain HTTP behind a TLS-terminating proxy (also STEWARD_INSECURE_HTTP)")
	f.String("log-level", "", "debug, info, warn or error (also STEWARD_LOG_LEVEL)")
	f.String("proxy", "", "forward proxy for Azure's host names: HOST:PORT, 'auto' (next to --listen: 127.0.0.1:8444) or '' to turn it off (also STEWARD_PROXY; default auto)")
	f.StringSlice("proxy-allow", nil, "client networks (CIDR) allowed to use the proxy (also STEWARD_PROXY_ALLOW; default loopback only)")
	f.String("root-key-file", "", "root key that seals secrets at rest (also STEWARD_ROOT_KEY_FILE; default ~/.config/steward/root.key; STEWARD_ROOT_KEY wins)")
	f.String("policy-builtins", "", "folder of built-in policy definitions in Azure/azure-policy's layout, served at the tenant scope (also STEWARD_POLICY_BUILTINS)")
	f.String("smtp-addr", "", "SMTP server (host:port) for alert, report and sign-up verification emails (also STEWARD_SMTP_ADDR; STEWARD_SMTP_USER and STEWARD_SMTP_PASSWORD authenticate)")
	f.String("smtp-from", "", "sender address of alert, report and sign-up verification emails (also STEWARD_SMTP_FROM)")
	f.String("geoip-db", "", "MaxMind DB city database (.mmdb: GeoLite2-City, GeoIP2-City, DB-IP City) for KQL's geo_info_from_ip_address (also STEWARD_GEOIP_DB)")
	f.String("aliases", "", "policy alias table file (CSV or provider JSON) added over the built-in table and those stored with 'steward policy aliases import'")
	addServeReportFlags(f)
	addServeCollectorFlags(f)
	f.StringSlice("vending-platform-group", nil, "object ID of an Entra group of the platform team, whose members read and change the vending catalog (in the console too) with their own sign-in (repeatable)")
	return cmd
}

// loadServeConfig builds the configuration: defaults, then the config
// file, then STEWARD_* variables, then the flags the user set.
func loadServeConfig(cmd *cobra.Command) (server.Config, error) {
	cfg := server.DefaultConfig()
	f := cmd.Flags()
	path, _ := f.GetString("config")
	if path == "" {
		path = os.Getenv("STEWARD_CONFIG")
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return cfg, err
		}
	}
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	strFlags := map[string]*string{"data": &cfg.DataDir, "listen": &cfg.Listen, "store": &cfg.StoreURL,
		"public-url": &cfg.PublicURL, "log-level": &cfg.LogLevel, "root-key-file": &cfg.RootKeyFile,
		"proxy": &cfg.Proxy, "geoip-db": &cfg.Queries.GeoIPDB}
	if f.Changed("proxy-allow") {
		cfg.ProxyAllow, _ = f.GetStringSlice("proxy-allow")
	}
	for name, dst := range strFlags {
		if f.Changed(name) {
			*dst, _ = f.GetString(name)
		}
	}
	if f.Changed("insecure-http") {
		cfg.InsecureHTTP, _ = f.GetBool("insecure-http")
	}
	return cfg, cfg.Validate()
}

func runServe(cmd *cobra.Command, _ []string) error {
	cfg, err := loadServeConfig(cmd)
	if err != nil {
		return &exitError{code: 2, msg: "steward serve: invalid configuration:\n" + err.Error()}
	}
	if err := checkDataDirPlace(cmd, cfg.DataDir); err != nil {
		return err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	aliases, err := loadAliases(cmd)
	if err != nil {
		return &exitError{code: 2, msg: "steward serve: policy aliases: " + err.Error()}
	}
	collectorOpts, err := collectorOptions(cmd)
	if err != nil {
		return err
	}
	platformGroups, _ := cmd.Flags().GetStringSlice("vending-platform-group")
	for _, g := range platformGroups {
		if _, err := uuid.Parse(g); err != nil {
			return &exitError{code: 2, msg: "steward serve: --vending-platform-group " + g + ": give a group's object ID (a GUID)"}
		}
	}
	builtins, _ := cmd.Flags().GetString("policy-builtins")
	if builtins == "" {
		builtins = os.Getenv("STEWARD_POLICY_BUILTINS")
	}
	var vault *server.VaultPlane
	var compliance *insights.Engine
	stopProgress := firstStartProgress(cmd, cfg.DataDir)
	s, err := server.Open(ctx, cfg, log, serveServices(
		policyproviderOptions{builtins: builtins, aliases: aliases, log: log, insightsReady: func(e *insights.Engine) { compliance = e },
			mailer: smtpMailer(cmd), reports: reportsOptions(cmd), collector: collectorOpts,
			platformGroups: platformGroups},
		func(p *server.VaultPlane) { vault = p })...)
	stopProgress()
	var le *server.ListenError
	var ge *server.GeoIPError
	switch {
	case errors.As(err, &ge):
		return &exitError{code: 2, msg: "steward serve: " + ge.Error() + ". Nothing was created."}
	case errors.As(err, &le):
		flag, env := "--listen", "STEWARD_LISTEN"
		if le.Flag == "--proxy" {
			flag, env = "--proxy", "STEWARD_PROXY; --proxy '' turns the proxy off"
		}
		return &exitError{code: 2, msg: fmt.Sprintf("steward serve: %v.\nAnother program may be using the port: choose another address with %s HOST:PORT (or %s). Nothing was created.", le, flag, env)}
	case errors.Is(err, server.ErrDataDirInUse), errors.As(err, new(*store.SchemaTooNewError)):
		return &exitError{code: 1, msg: "steward serve: " + err.Error()}
	case err != nil:
		return fmt.Errorf("serve: %w", err)
	}
	if compliance != nil {
		defer compliance.Stop()
	}
	if s.Cloud != nil {
		go pruneActivity(ctx, s.Cloud, log)
	}
	if vault != nil {
		// Timed vault work: purges after retention, key rotation by
		// policy, certificate auto-renewal. It stops with ctx.
		go vault.RunMaintenance(ctx)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Steward is serving at %s (data in %s). Run `steward env --data %s` for SDK settings.\n",
		s.BaseURL, cfg.DataDir, cfg.DataDir)
	if s.ProxyURL != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "Azure's host names (management.azure.com, login.microsoftonline.com, *.vault.azure.net, ...) are served through the proxy at %s (HTTPS_PROXY).\n", s.ProxyURL)
	}
	if err := s.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// smtpMailer is the alerts' mailer from --smtp-addr/--smtp-from and the
// STEWARD_SMTP_* variables (the password only from the environment).
func smtpMailer(cmd *cobra.Command) alerts.SMTPMailer {
	flagOrEnv := func(flag, env string) string {
		if v, _ := cmd.Flags().GetString(flag); v != "" {
			return v
		}
		return os.Getenv(env)
	}
	return alerts.SMTPMailer{Addr: flagOrEnv("smtp-addr", "STEWARD_SMTP_ADDR"), From: flagOrEnv("smtp-from", "STEWARD_SMTP_FROM"),
		Username: os.Getenv("STEWARD_SMTP_USER"), Password: os.Getenv("STEWARD_SMTP_PASSWORD")}
}

// serveServices lists the services steward serve mounts after the token
// service, in mount order: the management API first, since the others
// register their ARM resource types on it.
// vaultReady receives the vault data plane once it is mounted.
func serveServices(pol policyproviderOptions, vaultReady func(*server.VaultPlane)) []server.Service {
	var ready []func(*server.VaultPlane)
	if vaultReady != nil {
		ready = append(ready, vaultReady)
	}
	services := []server.Service{
		server.CloudService(registerProviders(pol)),
		server.LogsService(),
		server.ActivityTableService(server.ActivityTableOptions{}),
		server.VaultService(server.VaultOptions{}, ready...),
		server.VaultLogService(server.VaultLogOptions{}),
		server.AlertsService(server.AlertsOptions{Mailer: pol.mailer}),
		server.StorageService(),
		server.VendingService(server.VendingOptions{PlatformGroups: pol.platformGroups}),
		server.CollectorServeService(pol.collector),
		server.WebService(),
	}
	// The alerts' SMTP server also sends sign-up verification codes; with
	// none configured, self-service sign-up is off.
	if m, ok := pol.mailer.(alerts.SMTPMailer); ok && m.Addr != "" && m.From != "" {
		services = append(services, server.IdentityMailService(m))
	}
	if pol.reports != nil {
		ro := *pol.reports
		if ro.Mailer == nil && pol.mailer != nil {
			ro.Mailer = pol.mailer // the alerts' SMTP server mails report incidents too
		}
		services = append(services, server.ReportsService(ro))
	}
	return services
}

// policyproviderOptions are the serve settings of the policy provider.
type policyproviderOptions struct {
	builtins string
	aliases  *policy.AliasTable
	// insightsReady receives the compliance engine once it runs.
	insightsReady func(*insights.Engine)
	log           *slog.Logger
	// mailer sends the alerts' email notifications.
	mailer alerts.Mailer
	// reports configure the scheduled reports (nil: none).
	reports *server.ReportsOptions
	// collector sets the collector's schedules.
	collector server.CollectorServeOptions
	// platformGroups are the vending catalog's platform team groups.
	platformGroups []string
}

// registerProviders adds the resource providers built on the embedded ARM:
// Microsoft.Authorization (roles, role assignments, deny assignments,
// permissions) and the policy resources with request-time enforcement.
func registerProviders(pol policyproviderOptions) server.CloudSetup {
	return func(ctx context.Context, s *server.Steward, c *cloud.Cloud) error {
		if err := authorization.Register(c); err != nil {
			return fmt.Errorf("Microsoft.Authorization: %w", err)
		}
		p, err := policyprovider.Register(c, policyprovider.Options{BuiltInDir: pol.builtins, Aliases: pol.aliases})
		if err != nil {
			return fmt.Errorf("policy provider: %w", err)
		}
		// Managed applications (Microsoft.Solutions), with their
		// notification outbox.
		sol, err := solutions.Register(c, solutions.Options{Logger: pol.log})
		if err != nil {
			return fmt.Errorf("Microsoft.Solutions: %w", err)
		}
		sol.Start(ctx)
		// Continuous compliance (Microsoft.PolicyInsights) over the
		// assignments the policy provider enforces, with Azure's standard
		// 24-hour evaluation cycle on top of evaluation at every write.
		eng := insights.New(c, insights.Options{Assignments: p.Assignments, Aliases: pol.aliases,
			Cycle: 24 * time.Hour, Logger: pol.log, Owner: s.ReplicaID})
		s.Queue("compliance-scans", insights.JobsTable, "")
		if err := eng.Mount(); err != nil {
			return fmt.Errorf("policy insights: %w", err)
		}
		eng.Start(ctx)
		if pol.insightsReady != nil {
			pol.insightsReady(eng)
		}
		return nil
	}
}

// pruneActivity drops activity-log events older than Azure's 90-day
// retention, once at start and then hourly, until ctx ends.
func pruneActivity(ctx context.Context, c *cloud.Cloud, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := c.PruneActivity(ctx, time.Now().Add(-cloud.ActivityRetention))
		if err != nil && ctx.Err() == nil {
			log.Warn("activity log pruning failed", "err", err)
		} else if n > 0 {
			log.Info("activity log pruned", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dataDir resolves the data directory of commands that read one: the
// --data flag, else STEWARD_DATA, else the serve default.
func dataDir(cmd *cobra.Command) string {
	if d, _ := cmd.Flags().GetString("data"); d != "" {
		return d
	}
	if d := os.Getenv("STEWARD_DATA"); d != "" {
		return d
	}
	return server.DefaultConfig().DataDir
}

// checkDataDirPlace refuses to create a data directory inside a git work
// tree unless the user chose the directory (--data, STEWARD_DATA or the
// config file): it would hold the CA key, the administrator's secret and
// the store, which "git add ." would pick up. It also points at a
// ./steward-data left by versions that defaulted to it.
func checkDataDirPlace(cmd *cobra.Command, dir string) error {
	explicit := dir != server.DefaultDataDir()
	if _, err := os.Stat(dir); err == nil || explicit {
		return nil
	}
	if repo := server.GitWorkTree(dir); repo != "" {
		return &exitError{code: 2, msg: fmt.Sprintf("steward serve: the default data directory %s would be created inside the git work tree %s, "+
			"where \"git add .\" could commit Steward's keys and secrets.\nChoose its place with --data DIR (or STEWARD_DATA).", dir, repo)}
	}
	if _, err := os.Stat(filepath.Join("steward-data", "bootstrap.json")); err == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: ./steward-data holds the data of an earlier Steward, which defaulted to it; "+
			"the default is now %s. Pass --data steward-data to keep using it.\n", dir)
	}
	return nil
}
