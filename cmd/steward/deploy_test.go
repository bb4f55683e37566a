package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/steward-gov/steward/internal/server"
)

// deployFile reads a file of the deployment recipe in deploy/.
func deployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkStewardArgs parses a steward command line with the real command
// tree, so a recipe cannot name a command or flag that does not exist.
func checkStewardArgs(t *testing.T, where string, args []string) {
	t.Helper()
	root := newRootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is not a steward command: %v", where, args, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: steward %s: %v", where, strings.Join(args, " "), err)
	}
}

// knownEnv are the STEWARD_* variables steward reads: the configuration's
// (found by asking LoadEnv which it looks up) and the others.
func knownEnv(t *testing.T) map[string]bool {
	known := map[string]bool{"STEWARD_ROOT_KEY": true, "STEWARD_CONFIG": true, "STEWARD_POLICY_BUILTINS": true,
		"STEWARD_SMTP_ADDR": true, "STEWARD_SMTP_FROM": true, "STEWARD_SMTP_USER": true, "STEWARD_SMTP_PASSWORD": true}
	cfg := server.DefaultConfig()
	if err := cfg.LoadEnv(func(name string) (string, bool) { known[name] = true; return "", false }); err != nil {
		t.Fatal(err)
	}
	return known
}

var stewardVar = regexp.MustCompile(`\bSTEWARD_[A-Z_]+\b`)

func checkEnvNames(t *testing.T, where, text string) {
	t.Helper()
	known := knownEnv(t)
	for _, name := range stewardVar.FindAllString(text, -1) {
		if !known[name] {
			t.Errorf("%s names %s, which steward does not read", where, name)
		}
	}
}

// The Dockerfile builds a static binary in one stage and runs it as a
// non-root user from a minimal base in the last.
func TestDeployDockerfile(t *testing.T) {
	text := deployFile(t, "Dockerfile")
	var froms []string
	var user, cmdLine string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		word, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			froms = append(froms, rest)
			user = "" // USER applies to its stage
		case "USER":
			user = strings.TrimSpace(rest)
		case "CMD":
			cmdLine = rest
		}
	}
	if len(froms) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a runtime stage", len(froms))
	}
	if !strings.HasPrefix(froms[0], "golang:") {
		t.Errorf("build stage FROM %s: want the Go toolchain image", froms[0])
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless/static") && !strings.HasPrefix(last, "scratch") {
		t.Errorf("runtime stage FROM %s: want distroless/static or scratch", last)
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("runtime stage USER %q: want a non-root user", user)
	}
	// A static binary: without cgo, or with cgo linked statically and
	// Go's own resolver and user lookup (H3 needs cgo).
	static := strings.Contains(text, "CGO_ENABLED=0") ||
		(strings.Contains(text, "CGO_ENABLED=1") && strings.Contains(text, "-extldflags -static") &&
			strings.Contains(text, "netgo") && strings.Contains(text, "osusergo"))
	if !static {
		t.Error("Dockerfile does not build a static binary (CGO_ENABLED=0, or cgo with -extldflags -static, netgo and osusergo)")
	}
	var args []string
	if err := yaml.Unmarshal([]byte(cmdLine), &args); err != nil || len(args) == 0 {
		t.Fatalf("CMD %s: want an exec-form JSON array: %v", cmdLine, err)
	}
	checkStewardArgs(t, "Dockerfile CMD", args)
	checkEnvNames(t, "Dockerfile", text)
}

// The compose file parses, runs three replicas on the PostgreSQL service
// with data directories of their own, and the proxy balances over all three.
func TestDeployCompose(t *testing.T) {
	text := deployFile(t, "compose.yaml")
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   any               `yaml:"depends_on"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	pg, ok := doc.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") {
		t.Fatalf("compose.yaml has no postgres service: %+v", doc.Services)
	}
	var replicas []string
	dataDirs := map[string]bool{}
	for name, svc := range doc.Services {
		if svc.Image != "steward:local" {
			continue
		}
		if len(svc.Command) == 0 {
			t.Errorf("service %s has no command", name)
			continue
		}
		checkStewardArgs(t, "compose service "+name, svc.Command)
		if !strings.HasPrefix(svc.Environment["STEWARD_STORE"], "postgres://") || svc.Environment["STEWARD_ROOT_KEY"] == "" {
			t.Errorf("service %s: STEWARD_STORE %q, STEWARD_ROOT_KEY set %v; want the postgres service and the shared root key",
				name, svc.Environment["STEWARD_STORE"], svc.Environment["STEWARD_ROOT_KEY"] != "")
		}
		if svc.Command[0] != "serve" {
			continue
		}
		replicas = append(replicas, name)
		dir := svc.Environment["STEWARD_DATA"]
		if dir == "" || dataDirs[dir] {
			t.Errorf("service %s: data directory %q: each replica needs its own", name, dir)
		}
		dataDirs[dir] = true
		if len(svc.Volumes) == 0 {
			t.Errorf("service %s keeps its data directory in no volume", name)
		}
	}
	slices.Sort(replicas)
	if len(replicas) != 3 {
		t.Fatalf("compose.yaml serves %d steward replicas (%v), want 3", len(replicas), replicas)
	}
	proxy := deployFile(t, "Caddyfile")
	for _, r := range replicas {
		if !strings.Contains(proxy, r+":8443") {
			t.Errorf("Caddyfile does not proxy to %s", r)
		}
	}
	if !strings.Contains(proxy, "health_uri /readyz") {
		t.Error("Caddyfile does not check the replicas' readiness")
	}
	if !strings.Contains(text, "./postgresql.conf.d/steward.conf:") {
		t.Error("compose.yaml does not use deploy/postgresql.conf.d/steward.conf")
	}
	checkEnvNames(t, "compose.yaml", text)
}

// unitKeys parses a systemd unit into section -> key -> values.
func unitKeys(text string) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	section := ""
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok && section != "" {
				out[section][k] = append(out[section][k], v)
			}
		}
	}
	return out
}

// The systemd units run steward unprivileged with systemd's hardening.
func TestDeploySystemdUnits(t *testing.T) {
	hardening := []string{"NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
		"CapabilityBoundingSet", "RestrictAddressFamilies", "RestrictNamespaces", "RestrictSUIDSGID",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "LockPersonality",
		"MemoryDenyWriteExecute", "SystemCallFilter", "SystemCallArchitectures"}
	for _, c := range []struct {
		unit string
		want []string // steward arguments of ExecStart
	}{
		{"steward.service", []string{"serve"}},
		{"steward-migrate.service", []string{"migrate"}},
	} {
		text := deployFile(t, "systemd/"+c.unit)
		keys := unitKeys(text)
		svc := keys["Service"]
		if svc == nil || keys["Unit"] == nil {
			t.Errorf("%s: no [Unit] or [Service] section", c.unit)
			continue
		}
		for _, k := range hardening {
			if len(svc[k]) == 0 {
				t.Errorf("%s: hardening key %s missing", c.unit, k)
			}
		}
		if u := svc["User"]; len(u) != 1 || u[0] == "root" || u[0] == "0" {
			t.Errorf("%s: User=%v, want a non-root user", c.unit, u)
		}
		if v := svc["NoNewPrivileges"]; len(v) > 0 && v[0] != "yes" && v[0] != "true" {
			t.Errorf("%s: NoNewPrivileges=%s", c.unit, v[0])
		}
		if v := svc["CapabilityBoundingSet"]; len(v) > 0 && v[0] != "" {
			t.Errorf("%s: CapabilityBoundingSet=%s, want empty (no capabilities)", c.unit, v[0])
		}
		exec := svc["ExecStart"]
		if len(exec) != 1 {
			t.Fatalf("%s: ExecStart %v", c.unit, exec)
		}
		args := strings.Fields(exec[0])
		if len(args) < 2 || filepath.Base(args[0]) != "steward" || !slices.Equal(args[1:], c.want) {
			t.Errorf("%s: ExecStart=%s, want steward %s", c.unit, exec[0], strings.Join(c.want, " "))
		}
		checkStewardArgs(t, c.unit, args[1:])
		checkEnvNames(t, c.unit, text)
	}
	env := deployFile(t, "systemd/steward.env.example")
	checkEnvNames(t, "steward.env.example", env)
	cfg := server.DefaultConfig()
	vars := map[string]string{}
	for line := range strings.Lines(env) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}
	if err := cfg.LoadEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
		t.Errorf("steward.env.example: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("steward.env.example: %v", err)
	}
	if !strings.HasPrefix(cfg.StoreURL, "postgres://") {
		t.Errorf("steward.env.example: store %q, want a PostgreSQL URL", cfg.StoreURL)
	}
}

// The PostgreSQL settings keep Steward's durability and do not end idle
// sessions (a replica's lock session is idle while it holds locks).
func TestDeployPostgresSettings(t *testing.T) {
	text := deployFile(t, "postgresql.conf.d/steward.conf")
	settings := map[string]string{}
	for line := range strings.Lines(text) {
		line, _, _ = strings.Cut(line, "#")
		if k, v, ok := strings.Cut(line, "="); ok {
			settings[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), "'")
		}
	}
	for k, want := range map[string]string{"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "idle_session_timeout": "0"} {
		if got, ok := settings[k]; ok && got != want {
			t.Errorf("steward.conf: %s = %s, want %s", k, got, want)
		}
	}
	if n := len(settings); n < 10 {
		t.Errorf("steward.conf has %d settings; want the recommended ones", n)
	}
}
