package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/vault"
)

// Key Vault's audit log as diagnostic settings export it.
const (
	// VaultAuditCategory is the log category of Key Vault's audit log.
	VaultAuditCategory = "AuditEvent"
	// VaultAuditTable is the resource-specific table of the audit log
	// (logAnalyticsDestinationType "Dedicated").
	VaultAuditTable = "AZKVAuditLogs"
	// DiagnosticsTable is the shared table of resource logs (the default
	// destination type).
	DiagnosticsTable = "AzureDiagnostics"
)

// DefaultVaultLogForwardEvery is how often vault audit events go to the
// workspaces of the vaults' diagnostic settings.
const DefaultVaultLogForwardEvery = 2 * time.Second

// DefaultVaultLogBuffer is how many audit events wait for the forwarder at
// most; past it, new events are dropped (and counted in a warning).
const DefaultVaultLogBuffer = 10000

// vaultLogBatch is how many rows one append writes at most.
const vaultLogBatch = 500

// VaultLogOptions configure the export of Key Vault audit logs.
type VaultLogOptions struct {
	// Every is the forwarding period (0: DefaultVaultLogForwardEvery).
	Every time.Duration
	// Buffer bounds the events waiting in memory (0:
	// DefaultVaultLogBuffer).
	Buffer int
	// Disabled starts no forwarder (for tests that run the returned one
	// themselves); events are still recorded.
	Disabled bool
}

// VaultLogForwarder runs one forwarding pass and returns how many rows it
// wrote.
type VaultLogForwarder func(ctx context.Context) (int, error)

// VaultLogService is the Service that sends Key Vault's audit log (the
// AuditEvent category) to the Log Analytics workspaces that vaults'
// diagnostic settings name. The vault data plane records one event per
// request into a bounded buffer in memory, after answering; a background
// worker drains it every few seconds, reads each vault's settings and
// appends rows to AzureDiagnostics, or to AZKVAuditLogs for settings with
// logAnalyticsDestinationType Dedicated. Events no setting asks for are
// dropped. It needs CloudService and LogsService mounted before it; the
// vault (VaultService) may come before or after. ready, when given,
// receives the forwarder (tests run passes with it).
func VaultLogService(opts VaultLogOptions, ready ...func(VaultLogForwarder)) Service {
	return func(ctx context.Context, s *Steward) error {
		c := s.Cloud
		if c == nil {
			return errors.New("vault logs: mount CloudService and LogsService before it")
		}
		buf := &vaultAuditBuffer{max: opts.Buffer, half: make(chan struct{}, 1)}
		if buf.max <= 0 {
			buf.max = DefaultVaultLogBuffer
		}
		s.vaultAudit.Store(buf)
		fw := &vaultLogForwarder{cloud: c, logs: logs.New(s.Store, logs.Options{Sealer: s.Sealer}), buf: buf}
		for _, f := range ready {
			f(fw.forward)
		}
		if opts.Disabled {
			return nil
		}
		every := opts.Every
		if every <= 0 {
			every = DefaultVaultLogForwardEvery
		}
		log := s.log.With("component", "vault-log-export")
		// A clean stop sends what is buffered; the buffer's half mark
		// sends before the period is up.
		s.periodic(every, buf.half, true, func(ctx context.Context) {
			// A pass cut short by shutdown is quiet: its batches are kept
			// for the final pass.
			if n, err := fw.forward(ctx); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
				log.Warn("forwarding vault audit logs", "err", err, "rows", n)
			}
			if d := buf.takeDropped(); d > 0 {
				log.Warn("vault audit events dropped: the buffer was full", "dropped", d, "buffer", buf.max)
			}
		})
		return nil
	}
}

// vaultAuditor is the Auditor the vault handler calls: it hands events to
// the buffer of VaultLogService when one is mounted, and drops them
// otherwise.
func (s *Steward) vaultAuditor() vault.Auditor {
	return vault.AuditorFunc(func(ev vault.AuditEvent) {
		if b := s.vaultAudit.Load(); b != nil {
			b.Record(ev)
		}
	})
}

// vaultAuditBuffer holds audit events until the forwarder takes them.
type vaultAuditBuffer struct {
	mu      sync.Mutex
	events  []vault.AuditEvent
	max     int
	dropped int
	// half is signalled when the buffer reaches half its bound, so the
	// forwarder runs before the period is up.
	half chan struct{}
}

// Record keeps ev unless the buffer is full; it never blocks on I/O.
func (b *vaultAuditBuffer) Record(ev vault.AuditEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) >= b.max {
		b.dropped++
		return
	}
	b.events = append(b.events, ev)
	if len(b.events) == b.max/2 {
		select {
		case b.half <- struct{}{}:
		default:
		}
	}
}

// requeue puts events a pass could not place back before the buffered
// ones, as far as the bound allows, and returns how many it kept.
func (b *vaultAuditBuffer) requeue(evs []vault.AuditEvent) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(evs), b.max-len(b.events))
	if n <= 0 {
		return 0
	}
	b.events = append(append(make([]vault.AuditEvent, 0, n+len(b.events)), evs[:n]...), b.events...)
	return n
}

func (b *vaultAuditBuffer) take() []vault.AuditEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = nil
	return out
}

func (b *vaultAuditBuffer) takeDropped() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.dropped
	b.dropped = 0
	return n
}

// vaultLogForwarder moves buffered events to the workspaces.
type vaultLogForwarder struct {
	cloud *cloud.Cloud
	logs  *logs.Service
	buf   *vaultAuditBuffer
	// mu serializes passes (the background worker and a test's) and
	// guards pending.
	mu sync.Mutex
	// pending are batches an append refused, tried again on the next
	// passes.
	pending []vaultLogBatchRows
}

// vaultLogBatchRows are rows bound for one table of one workspace.
type vaultLogBatchRows struct {
	setting, workspace, table string
	cols                      []kql.Column
	rows                      []kql.Row
	tries                     int
}

// vaultLogTries is how many passes try a batch before it is dropped.
const vaultLogTries = 3

// forward runs one pass: the buffered events of each vault go to every
// workspace of the vault's settings that enable the AuditEvent category
// (directly, or through the audit or allLogs group), events older than
// the setting excepted. A batch whose append fails is tried again on the
// next passes (vaultLogTries in all, within the buffer's bound) and then
// dropped; a setting whose workspace no longer exists loses its events.
// Failures are returned.
func (f *vaultLogForwarder) forward(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	batches, errs := f.batches(ctx, f.buf.take())
	batches = append(f.pending, batches...)
	f.pending = nil
	written, held := 0, 0
	for _, b := range batches {
		for len(b.rows) > 0 {
			n := min(len(b.rows), vaultLogBatch)
			if err := f.logs.Rows.Append(ctx, b.workspace, b.table, b.cols, b.rows[:n], logs.Evolve); err != nil {
				b.tries++
				if b.tries < vaultLogTries && held+len(b.rows) <= f.buf.max {
					f.pending = append(f.pending, b)
					held += len(b.rows)
					err = fmt.Errorf("%w (%d rows kept for the next pass)", err, len(b.rows))
				} else {
					err = fmt.Errorf("%w (%d rows dropped)", err, len(b.rows))
				}
				errs = append(errs, fmt.Errorf("setting %s: %s: %w", b.setting, b.table, err))
				break
			}
			written += n
			b.rows = b.rows[n:]
		}
	}
	return written, errors.Join(errs...)
}

// batches turns events into rows for the workspaces of their vaults'
// settings.
func (f *vaultLogForwarder) batches(ctx context.Context, events []vault.AuditEvent) ([]vaultLogBatchRows, []error) {
	byVault := map[string][]vault.AuditEvent{}
	var order []string
	for _, ev := range events {
		k := strings.ToLower(ev.VaultID)
		if _, ok := byVault[k]; !ok {
			order = append(order, k)
		}
		byVault[k] = append(byVault[k], ev)
	}
	workspaces := map[string]logs.Workspace{}
	var out []vaultLogBatchRows
	var errs []error
	for _, k := range order {
		evs := byVault[k]
		settings, err := f.cloud.ResourceDiagnosticSettings(ctx, evs[0].VaultID)
		if err != nil {
			kept := f.buf.requeue(evs)
			errs = append(errs, fmt.Errorf("diagnostic settings of %s (%d events kept for the next pass, %d dropped): %w",
				evs[0].VaultID, kept, len(evs)-kept, err))
			continue
		}
		for _, st := range settings {
			if st.WorkspaceID == "" || !st.Enables(VaultAuditCategory, "audit") {
				continue
			}
			ws, ok := workspaces[strings.ToLower(st.WorkspaceID)]
			if !ok {
				if ws, err = f.logs.WorkspaceByResourceID(ctx, st.WorkspaceID); err != nil {
					errs = append(errs, fmt.Errorf("setting %s: workspace %s: %w", st.ID, st.WorkspaceID, err))
					continue
				}
				workspaces[strings.ToLower(st.WorkspaceID)] = ws
			}
			b := vaultLogBatchRows{setting: st.ID, workspace: ws.CustomerID, table: DiagnosticsTable, cols: vaultDiagnosticsColumns}
			row := vaultDiagnosticsRow
			if st.Dedicated {
				b.table, b.cols, row = VaultAuditTable, vaultAuditColumns, vaultAuditRow
			}
			for _, ev := range evs {
				if !ev.Time.Before(st.Created) {
					b.rows = append(b.rows, row(ws.CustomerID, ev))
				}
			}
			if len(b.rows) > 0 {
				out = append(out, b)
			}
		}
	}
	return out, errs
}

// vaultResult is an event's ResultType and ResultSignature: "Success" and
// the status text for a 2xx answer, the status text (without spaces) and
// the status text otherwise.
func vaultResult(status int) (string, string) {
	text := http.StatusText(status)
	if text == "" {
		text = fmt.Sprint(status)
	}
	if status >= 200 && status < 300 {
		return "Success", text
	}
	return strings.ReplaceAll(text, " ", ""), text
}

// guid is a guid column's value: null when s is empty or not a GUID.
func guid(s string) kql.Value {
	u, err := uuid.Parse(s)
	if err != nil {
		return kql.Null(kql.TypeGuid)
	}
	return kql.Guid(u.String())
}

// vaultDiagnosticsColumns are the AzureDiagnostics columns a Key Vault
// audit event fills, with Azure's names and types: the table's common
// columns, then the _s/_d/_g/_b columns Key Vault's properties and
// identity claims become.
var vaultDiagnosticsColumns = []kql.Column{
	{Name: "TenantId", Type: kql.TypeString},
	{Name: "TimeGenerated", Type: kql.TypeDateTime},
	{Name: "ResourceId", Type: kql.TypeString},
	{Name: "Category", Type: kql.TypeString},
	{Name: "ResourceGroup", Type: kql.TypeString},
	{Name: "SubscriptionId", Type: kql.TypeString},
	{Name: "ResourceProvider", Type: kql.TypeString},
	{Name: "Resource", Type: kql.TypeString},
	{Name: "ResourceType", Type: kql.TypeString},
	{Name: "OperationName", Type: kql.TypeString},
	{Name: "OperationVersion", Type: kql.TypeString},
	{Name: "ResultType", Type: kql.TypeString},
	{Name: "ResultSignature", Type: kql.TypeString},
	{Name: "ResultDescription", Type: kql.TypeString},
	{Name: "DurationMs", Type: kql.TypeLong},
	{Name: "CallerIPAddress", Type: kql.TypeString},
	{Name: "CorrelationId", Type: kql.TypeString},
	{Name: "id_s", Type: kql.TypeString},
	{Name: "clientInfo_s", Type: kql.TypeString},
	{Name: "httpStatusCode_d", Type: kql.TypeReal},
	{Name: "requestUri_s", Type: kql.TypeString},
	{Name: "isRbacAuthorized_b", Type: kql.TypeBool},
	{Name: "identity_claim_oid_g", Type: kql.TypeGuid},
	{Name: "identity_claim_appid_g", Type: kql.TypeGuid},
	{Name: "identity_claim_tid_g", Type: kql.TypeGuid},
	{Name: "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g", Type: kql.TypeGuid},
	{Name: "identity_claim_upn_s", Type: kql.TypeString},
	{Name: "SourceSystem", Type: kql.TypeString},
	{Name: "Type", Type: kql.TypeString},
	{Name: "_ResourceId", Type: kql.TypeString},
}

// vaultDiagnosticsRow is an audit event as an AzureDiagnostics row, in the
// order of vaultDiagnosticsColumns. AzureDiagnostics gives the resource's
// ID and names in upper case, as Azure writes them.
func vaultDiagnosticsRow(workspace string, ev vault.AuditEvent) kql.Row {
	str := kql.String
	upper := strings.ToUpper(ev.VaultID)
	group, sub := "", ""
	if rid, err := arm.ParseResourceID(ev.VaultID); err == nil {
		group, sub = strings.ToUpper(rid.ResourceGroup), strings.ToUpper(rid.SubscriptionID)
	}
	resultType, signature := vaultResult(ev.Status)
	return kql.Row{
		str(workspace), kql.DateTimeOf(ev.Time), str(upper), str(VaultAuditCategory),
		str(group), str(sub), str("MICROSOFT.KEYVAULT"), str(strings.ToUpper(ev.VaultName)), str("VAULTS"),
		str(ev.OperationName), str(ev.APIVersion), str(resultType), str(signature), str(ev.Description),
		kql.Long(ev.Duration.Milliseconds()), str(ev.CallerIP), str(ev.ClientRequestID),
		str(ev.ID), str(ev.ClientInfo), kql.Real(float64(ev.Status)), str(ev.RequestURI), kql.Bool(ev.Authorized),
		guid(ev.ObjectID), guid(ev.AppID), guid(ev.TenantID), guid(ev.ObjectID), str(ev.UPN),
		str("Azure"), str(DiagnosticsTable), str(strings.ToLower(ev.VaultID)),
	}
}

// vaultAuditColumns are the AZKVAuditLogs columns an audit event fills
// (the table reference's names and types).
var vaultAuditColumns = []kql.Column{
	{Name: "TenantId", Type: kql.TypeString},
	{Name: "TimeGenerated", Type: kql.TypeDateTime},
	{Name: "OperationName", Type: kql.TypeString},
	{Name: "OperationVersion", Type: kql.TypeString},
	{Name: "ResultType", Type: kql.TypeString},
	{Name: "ResultSignature", Type: kql.TypeString},
	{Name: "ResultDescription", Type: kql.TypeString},
	{Name: "DurationMs", Type: kql.TypeInt},
	{Name: "CallerIpAddress", Type: kql.TypeString},
	{Name: "CorrelationId", Type: kql.TypeString},
	{Name: "Identity", Type: kql.TypeDynamic},
	{Name: "Properties", Type: kql.TypeDynamic},
	{Name: "Id", Type: kql.TypeString},
	{Name: "ClientInfo", Type: kql.TypeString},
	{Name: "RequestUri", Type: kql.TypeString},
	{Name: "HttpStatusCode", Type: kql.TypeInt},
	{Name: "IsRbacAuthorized", Type: kql.TypeBool},
	{Name: "EnableRbacAuthorization", Type: kql.TypeBool},
	{Name: "SourceSystem", Type: kql.TypeString},
	{Name: "Type", Type: kql.TypeString},
	{Name: "_ResourceId", Type: kql.TypeString},
	{Name: "_SubscriptionId", Type: kql.TypeString},
}

// vaultAuditRow is an audit event as an AZKVAuditLogs row, in the order of
// vaultAuditColumns.
func vaultAuditRow(workspace string, ev vault.AuditEvent) kql.Row {
	str := kql.String
	sub := ""
	if rid, err := arm.ParseResourceID(ev.VaultID); err == nil {
		sub = rid.SubscriptionID
	}
	resultType, signature := vaultResult(ev.Status)
	claims := map[string]any{}
	for k, v := range map[string]string{"oid": ev.ObjectID, "appid": ev.AppID, "tid": ev.TenantID, "upn": ev.UPN,
		"http://schemas.microsoft.com/identity/claims/objectidentifier": ev.ObjectID} {
		if v != "" {
			claims[k] = v
		}
	}
	var identity kql.Value
	if len(claims) > 0 {
		_, identity = jsonPair(map[string]any{"claim": claims})
	} else {
		identity = kql.Null(kql.TypeDynamic)
	}
	_, props := jsonPair(map[string]any{"clientInfo": ev.ClientInfo, "requestUri": ev.RequestURI, "id": ev.ID,
		"httpStatusCode": ev.Status, "isRbacAuthorized": ev.Authorized})
	return kql.Row{
		str(workspace), kql.DateTimeOf(ev.Time), str(ev.OperationName), str(ev.APIVersion),
		str(resultType), str(signature), str(ev.Description),
		kql.Int(ev.Duration.Milliseconds()), str(ev.CallerIP), str(ev.ClientRequestID),
		identity, props, str(ev.ID), str(ev.ClientInfo), str(ev.RequestURI), kql.Int(int64(ev.Status)),
		kql.Bool(ev.Authorized), kql.Bool(true),
		str("Azure"), str(VaultAuditTable), str(strings.ToLower(ev.VaultID)), str(sub),
	}
}
