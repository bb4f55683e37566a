package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/atomicfile"
)

// BootstrapFile and AdminCertFile are the names, in the data directory, of
// the bootstrap record and of the administrator's PEM certificate and key.
const (
	BootstrapFile = "bootstrap.json"
	AdminCertFile = "admin.pem"
)

// BootstrapConfig says where bootstrap writes and what endpoints it
// records.
type BootstrapConfig struct {
	// DataDir holds bootstrap.json and admin.pem.
	DataDir string
	// AuthorityHost and ARMEndpoint are the public URLs of the token
	// service and of the management API; CACertPath is the CA certificate
	// clients must trust.
	AuthorityHost, ARMEndpoint, CACertPath string
	// SecretLifetime is the administrator secret's lifetime (default 1 year);
	// the certificate gets the same.
	SecretLifetime time.Duration
}

// BootstrapInfo is the content of DATA/bootstrap.json: everything an Azure
// SDK program needs to sign in to Steward as its administrator.
type BootstrapInfo struct {
	TenantID        string `json:"tenantId"`
	SubscriptionID  string `json:"subscriptionId"`
	ClientID        string `json:"clientId"`
	ObjectID        string `json:"objectId"`
	ClientSecret    string `json:"clientSecret"`
	CertificatePath string `json:"certificatePath"`
	AuthorityHost   string `json:"authorityHost"`
	ARMEndpoint     string `json:"armEndpoint"`
	CACertPath      string `json:"caCertPath"`
}

// ReadBootstrap reads DATA/bootstrap.json.
func ReadBootstrap(dataDir string) (BootstrapInfo, error) {
	var info BootstrapInfo
	b, err := os.ReadFile(filepath.Join(dataDir, BootstrapFile))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("identity: %s: %w", BootstrapFile, err)
	}
	return info, nil
}

// Bootstrap prepares the home tenant on first start: a tenant, a default
// subscription ID, and an administrator application whose service
// principal has a client secret and a certificate credential; it writes
// admin.pem and then bootstrap.json (both 0600) last, so a crash leaves no
// half-written record. A replica starting on a store that already has a
// home tenant joins it instead (see firstBootstrap). On later starts it
// reads bootstrap.json back, refreshes the endpoint fields when they
// changed, and makes sure the tenant has a signing key. created reports
// that bootstrap.json was written for the first time.
func (s *Service) Bootstrap(ctx context.Context, cfg BootstrapConfig) (info BootstrapInfo, created bool, err error) {
	info, err = ReadBootstrap(cfg.DataDir)
	fromFile := err == nil
	if errors.Is(err, fs.ErrNotExist) {
		// The file may have been removed after first use: the sealed copy
		// in the store stands in for it.
		info, err = s.StoredBootstrap(ctx, cfg.DataDir)
		if errors.Is(err, ErrNotFound) {
			return s.firstBootstrap(ctx, cfg)
		}
	}
	if err != nil {
		return info, false, err
	}
	if _, terr := s.dir.Tenant(ctx, info.TenantID); terr != nil {
		return info, false, fmt.Errorf("identity: %s names tenant %s, which the store does not have (was the store replaced?): %w",
			BootstrapFile, info.TenantID, terr)
	}
	if err := s.keys.Ensure(ctx, info.TenantID); err != nil {
		return info, false, err
	}
	if err := s.ensureAdminRole(ctx, info.TenantID, info.ObjectID); err != nil {
		return info, false, err
	}
	changed := info.AuthorityHost != cfg.AuthorityHost || info.ARMEndpoint != cfg.ARMEndpoint || info.CACertPath != cfg.CACertPath
	info.AuthorityHost, info.ARMEndpoint, info.CACertPath = cfg.AuthorityHost, cfg.ARMEndpoint, cfg.CACertPath
	if fromFile && changed {
		if err := atomicfile.WriteFile(filepath.Join(cfg.DataDir, BootstrapFile), mustJSON(info), 0o600); err != nil {
			return info, false, err
		}
	}
	// Keep the sealed copy current (and make one for data directories
	// bootstrapped before it existed), so the file can be removed.
	return info, false, s.storeBootstrap(ctx, cfg.DataDir, info)
}

// tableBootstrap holds, sealed, the bootstrap record of each data
// directory, keyed by bootstrapKey.
const tableBootstrap = "identity.bootstrap"

// bootstrapKey names a data directory's bootstrap record: a hash of its
// absolute path, so that replicas sharing a store keep theirs apart.
func bootstrapKey(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(filepath.Clean(abs)))
	return hex.EncodeToString(sum[:16])
}

// storeBootstrap writes the sealed copy of a data directory's bootstrap
// record. Without a sealer it stores nothing: the client secret is never
// written to the store in clear.
func (s *Service) storeBootstrap(ctx context.Context, dataDir string, info BootstrapInfo) error {
	if s.opts.Sealer == nil {
		return nil
	}
	key := bootstrapKey(dataDir)
	plain := mustJSON(info)
	defer clear(plain)
	sealed, err := s.opts.Sealer.Seal(tableBootstrap+"/"+key, plain)
	if err != nil {
		return err
	}
	return s.dir.recs.Put(ctx, tableBootstrap, key, sealed)
}

// StoredBootstrap returns the sealed copy of a data directory's bootstrap
// record, which `steward env` reads when DATA/bootstrap.json has been
// removed. It fails with ErrNotFound when the store has none.
func (s *Service) StoredBootstrap(ctx context.Context, dataDir string) (BootstrapInfo, error) {
	var info BootstrapInfo
	if s.opts.Sealer == nil {
		return info, ErrNotFound
	}
	key := bootstrapKey(dataDir)
	sealed, err := s.dir.recs.Get(ctx, tableBootstrap, key)
	if err != nil {
		return info, err
	}
	plain, err := s.opts.Sealer.Open(ctx, tableBootstrap+"/"+key, sealed)
	if err != nil {
		return info, fmt.Errorf("identity: stored bootstrap record: %w", err)
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &info); err != nil {
		return info, fmt.Errorf("identity: stored bootstrap record: %w", err)
	}
	return info, nil
}

// homeRecord is the store's record of the home tenant, shared by replicas
// on one database; it holds no secrets.
type homeRecord struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	ClientID       string `json:"clientId"`
	ObjectID       string `json:"objectId"`
}

const tableHome, homeKey = "identity.home", "home"

// firstBootstrap runs when the data directory has no bootstrap.json. If
// the store already has a home tenant (another replica made it), this data
// directory joins it with administrator credentials of its own; otherwise
// it creates the tenant, and when a concurrent replica wins the race to
// record it, joins that one instead.
func (s *Service) firstBootstrap(ctx context.Context, cfg BootstrapConfig) (BootstrapInfo, bool, error) {
	if cfg.SecretLifetime == 0 {
		cfg.SecretLifetime = 365 * 24 * time.Hour
	}
	if home, err := s.readHome(ctx); err == nil {
		return s.joinHome(ctx, cfg, home)
	} else if !errors.Is(err, ErrNotFound) {
		return BootstrapInfo{}, false, err
	}
	t, err := s.CreateTenant(ctx, "Steward home tenant")
	if err != nil {
		return BootstrapInfo{}, false, err
	}
	app, sp, err := s.CreateApplication(ctx, t.ID, "steward-admin")
	if err != nil {
		return BootstrapInfo{}, false, err
	}
	home := homeRecord{TenantID: t.ID, SubscriptionID: strings.ToLower(s.opts.NewID()), ClientID: app.AppID, ObjectID: sp.ID}
	if err := s.dir.recs.Create(ctx, tableHome, homeKey, mustJSON(home)); errors.Is(err, ErrExists) {
		if home, err = s.readHome(ctx); err != nil {
			return BootstrapInfo{}, false, err
		}
	} else if err != nil {
		return BootstrapInfo{}, false, err
	}
	return s.joinHome(ctx, cfg, home)
}

func (s *Service) readHome(ctx context.Context) (homeRecord, error) {
	var h homeRecord
	return h, s.dir.get(ctx, tableHome, homeKey, &h)
}

// joinHome gives this data directory administrator credentials for the
// home tenant's admin application (a new client secret and certificate)
// and writes admin.pem, then bootstrap.json.
func (s *Service) joinHome(ctx context.Context, cfg BootstrapConfig, home homeRecord) (BootstrapInfo, bool, error) {
	if err := s.ensureAdminRole(ctx, home.TenantID, home.ObjectID); err != nil {
		return BootstrapInfo{}, false, err
	}
	secret, _, err := s.AddClientSecret(ctx, home.TenantID, home.ClientID, "bootstrap", cfg.SecretLifetime)
	if err != nil {
		return BootstrapInfo{}, false, err
	}
	certPEM, cert, err := s.newAdminCertificate(home.ClientID, cfg.SecretLifetime)
	if err != nil {
		return BootstrapInfo{}, false, err
	}
	if _, err := s.AddCertificate(ctx, home.TenantID, home.ClientID, "bootstrap", cert); err != nil {
		return BootstrapInfo{}, false, err
	}
	certPath := filepath.Join(cfg.DataDir, AdminCertFile)
	if err := atomicfile.WriteFile(certPath, certPEM, 0o600); err != nil {
		return BootstrapInfo{}, false, err
	}
	info := BootstrapInfo{
		TenantID:        home.TenantID,
		SubscriptionID:  home.SubscriptionID,
		ClientID:        home.ClientID,
		ObjectID:        home.ObjectID,
		ClientSecret:    secret,
		CertificatePath: certPath,
		AuthorityHost:   cfg.AuthorityHost,
		ARMEndpoint:     cfg.ARMEndpoint,
		CACertPath:      cfg.CACertPath,
	}
	if err := s.storeBootstrap(ctx, cfg.DataDir, info); err != nil {
		return BootstrapInfo{}, false, err
	}
	if err := atomicfile.WriteFile(filepath.Join(cfg.DataDir, BootstrapFile), mustJSON(info), 0o600); err != nil {
		return BootstrapInfo{}, false, err
	}
	return info, true, nil
}

// newAdminCertificate makes a self-signed RSA certificate for the
// administrator (azidentity's certificate credential takes RSA keys only)
// and returns the PEM of certificate and PKCS#8 key together.
func (s *Service) newAdminCertificate(appID string, lifetime time.Duration) ([]byte, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(s.opts.Rand, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial(s.opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	now := s.opts.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "steward-admin " + appID},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(s.opts.Rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})...)
	return out, cert, nil
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // only plain structs of strings are passed
	}
	return append(b, '\n')
}

// ensureAdminRole makes the bootstrap administrator a Global
// Administrator of the home tenant (idempotent; stores made before
// directory roles existed get the assignment on their next start).
func (s *Service) ensureAdminRole(ctx context.Context, tenantID, objectID string) error {
	if objectID == "" {
		return nil
	}
	_, err := s.dir.AssignRole(ctx, RoleAssignment{ID: strings.ToLower(s.opts.NewID()), TenantID: tenantID,
		RoleDefinitionID: RoleGlobalAdministrator, PrincipalID: objectID})
	return err
}
