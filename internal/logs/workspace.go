package logs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/store"
)

// Workspace is a Log Analytics workspace as the logs engine knows it: the
// ARM resource ID, the customerId that data-plane URLs carry, and the two
// shared keys of the Data Collector API.
type Workspace struct {
	ResourceID      string `json:"resourceId"`
	CustomerID      string `json:"customerId"`
	PrimaryKey      string `json:"primarySharedKey"`
	SecondaryKey    string `json:"secondarySharedKey"`
	RetentionInDays int    `json:"retentionInDays,omitempty"`
}

// ErrNoWorkspace is returned (wrapped) for an unknown workspace.
var ErrNoWorkspace = errors.New("no such workspace")

// Options configure a Service; every field has a default.
type Options struct {
	// Now is the clock (time.Now).
	Now func() time.Time
	// NewID returns a fresh GUID (uuid.NewString).
	NewID func() string
	// Rand is the source of shared keys (crypto/rand.Reader).
	Rand io.Reader
	// MaxClockSkew bounds how far a Data Collector request's x-ms-date may
	// be from now (DefaultMaxClockSkew).
	MaxClockSkew time.Duration
	// IngestionURL is the base of the Logs Ingestion endpoints Steward
	// gives data collection endpoints and rules, such as
	// "https://steward.example:8443/ingest" (the path prefix the ingestion
	// API is mounted on).
	IngestionURL string
	// DCEEndpoint, when set, names a data collection endpoint's ingestion
	// and configuration endpoints from its resource ID and location, as
	// Azure names them ("https://{name}-{suffix}.{region}-1.ingest.monitor.azure.com"),
	// instead of a path under IngestionURL.
	DCEEndpoint func(resourceID, location string) string
	// Sealer seals the workspace records, which hold the shared keys (nil
	// stores them in clear, for tests; steward serve always sets it).
	Sealer *seal.Sealer
	// Authorize checks that the caller of a bearer-authenticated request
	// may perform action on scope (nil allows every authenticated caller).
	Authorize Authorizer
	// QueryLimits bound each query of the query API (the KQL governor;
	// zero fields take kql.DefaultLimits); TransformLimits bound each run
	// of a DCR's transformKql (DefaultTransformLimits).
	QueryLimits     kql.Limits
	TransformLimits kql.Limits
	// GeoIP is the IP geolocation database geo_info_from_ip_address reads
	// in queries and transforms (nil: a query that calls it is refused).
	GeoIP *kql.GeoIPDB
	// MaxQueryWait is the longest time budget a Prefer: wait header may
	// ask for (MaxQueryWait, Log Analytics' 10 minutes).
	MaxQueryWait time.Duration
	// Gate bounds the queries running at once and queues the rest
	// (kql.NewGate's defaults when nil).
	Gate *kql.Gate
}

// Service is the logs engine: workspaces, ingestion and queries over one
// store.
type Service struct {
	Rows *Rows
	st   store.Store
	opts Options

	purgeMu   sync.Mutex
	lastPurge time.Time
}

// New returns the logs engine over st.
func New(st store.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = DefaultMaxClockSkew
	}
	if opts.MaxQueryWait <= 0 {
		opts.MaxQueryWait = MaxQueryWait
	}
	if opts.TransformLimits == (kql.Limits{}) {
		opts.TransformLimits = DefaultTransformLimits
	}
	if opts.Gate == nil {
		opts.Gate = kql.NewGate(0, 0, 0)
	}
	// The first ingestion after start purges.
	return &Service{Rows: NewRows(st, opts.Now), st: st, opts: opts}
}

// EnsureWorkspace registers the workspace resourceID, giving it a
// customerId and shared keys, or returns the registration it already has.
// customerID, when not empty, is the identifier to use on creation.
func (s *Service) EnsureWorkspace(ctx context.Context, resourceID, customerID string, retentionDays int) (Workspace, error) {
	var ws Workspace
	err := s.st.Update(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, wsByIDTable, strings.ToLower(resourceID))
		if err == nil {
			w, err := s.workspaceTx(ctx, tx, string(rec.Value))
			if err != nil {
				return err
			}
			if retentionDays > 0 && retentionDays != w.RetentionInDays {
				w.RetentionInDays = retentionDays
				if err := putJSON(ctx, s.sealed(tx), workspacesTable, w.CustomerID, w); err != nil {
					return err
				}
			}
			ws = w
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if customerID == "" {
			customerID = s.opts.NewID()
		}
		id, err := uuid.Parse(customerID)
		if err != nil {
			return fmt.Errorf("customerId %q is not a GUID", customerID)
		}
		ws = Workspace{ResourceID: resourceID, CustomerID: id.String(), RetentionInDays: retentionDays}
		if ws.PrimaryKey, err = s.newKey(); err != nil {
			return err
		}
		if ws.SecondaryKey, err = s.newKey(); err != nil {
			return err
		}
		if err := putJSON(ctx, s.sealed(tx), workspacesTable, ws.CustomerID, ws); err != nil {
			return err
		}
		_, err = tx.Put(ctx, wsByIDTable, strings.ToLower(resourceID), []byte(ws.CustomerID), store.Cond{})
		return err
	})
	return ws, err
}

// newKey returns a random 64-byte shared key, base64-encoded as Azure's
// are.
func (s *Service) newKey() (string, error) {
	b := make([]byte, 64)
	if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// RegenerateKey replaces the primary ("primary") or secondary key.
func (s *Service) RegenerateKey(ctx context.Context, customerID, which string) (Workspace, error) {
	var ws Workspace
	err := s.st.Update(ctx, func(tx store.Tx) error {
		w, err := s.workspaceTx(ctx, tx, customerID)
		if err != nil {
			return err
		}
		k, err := s.newKey()
		if err != nil {
			return err
		}
		switch strings.ToLower(which) {
		case "primary":
			w.PrimaryKey = k
		case "secondary":
			w.SecondaryKey = k
		default:
			return fmt.Errorf("keyType must be primary or secondary, not %q", which)
		}
		ws = w
		return putJSON(ctx, s.sealed(tx), workspacesTable, w.CustomerID, w)
	})
	return ws, err
}

// Workspace returns the workspace with the given customerId.
func (s *Service) Workspace(ctx context.Context, customerID string) (Workspace, error) {
	var ws Workspace
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		ws, err = s.workspaceTx(ctx, tx, customerID)
		return err
	})
	return ws, err
}

// WorkspaceByResourceID returns the workspace registered for an ARM ID.
func (s *Service) WorkspaceByResourceID(ctx context.Context, resourceID string) (Workspace, error) {
	var ws Workspace
	err := s.st.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, wsByIDTable, strings.ToLower(resourceID))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrNoWorkspace, resourceID)
		}
		if err != nil {
			return err
		}
		ws, err = s.workspaceTx(ctx, tx, string(rec.Value))
		return err
	})
	return ws, err
}

// Workspaces lists the registered workspaces.
func (s *Service) Workspaces(ctx context.Context) ([]Workspace, error) {
	var out []Workspace
	err := s.st.View(ctx, func(tx store.Tx) error {
		q := store.Query{Limit: store.MaxPageSize}
		for {
			page, err := s.sealed(tx).Scan(ctx, workspacesTable, q)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				var w Workspace
				if err := json.Unmarshal(r.Value, &w); err != nil {
					return err
				}
				out = append(out, w)
			}
			if page.Next == "" {
				return nil
			}
			q.After = page.Next
		}
	})
	return out, err
}

// DeleteWorkspace forgets a workspace and drops its tables.
func (s *Service) DeleteWorkspace(ctx context.Context, resourceID string) error {
	ws, err := s.WorkspaceByResourceID(ctx, resourceID)
	if err != nil {
		return err
	}
	tables, err := s.Rows.ListTables(ctx, ws.CustomerID)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.Rows.DropTable(ctx, ws.CustomerID, t.Name); err != nil && !errors.Is(err, ErrNoTable) {
			return err
		}
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, workspacesTable, ws.CustomerID, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.Delete(ctx, wsByIDTable, strings.ToLower(resourceID), store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
}

func (s *Service) workspaceTx(ctx context.Context, tx store.Tx, customerID string) (Workspace, error) {
	var ws Workspace
	id, err := uuid.Parse(customerID)
	if err != nil {
		return ws, fmt.Errorf("%w: %s", ErrNoWorkspace, customerID)
	}
	rec, err := s.sealed(tx).Get(ctx, workspacesTable, id.String())
	if errors.Is(err, store.ErrNotFound) {
		return ws, fmt.Errorf("%w: %s", ErrNoWorkspace, customerID)
	}
	if err != nil {
		return ws, err
	}
	err = json.Unmarshal(rec.Value, &ws)
	return ws, err
}

// sealed wraps tx so the workspace records, which hold the shared keys,
// are sealed at rest.
func (s *Service) sealed(tx store.Tx) store.Tx {
	if s.opts.Sealer == nil {
		return tx
	}
	return seal.Tx{Tx: tx, S: s.opts.Sealer}
}

// SealClearWorkspaces seals the workspace records that an older Steward
// wrote in clear; steward serve runs it on every start.
func (s *Service) SealClearWorkspaces(ctx context.Context) (int, error) {
	if s.opts.Sealer == nil {
		return 0, nil
	}
	return s.opts.Sealer.SealClearRecords(ctx, s.st, workspacesTable)
}

func putJSON(ctx context.Context, tx store.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Put(ctx, table, key, b, store.Cond{})
	return err
}
