package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/steward-gov/steward/internal/collector"
	"github.com/steward-gov/steward/internal/store"
)

// The collector's own application in the home tenant: the principal a
// publisher names in its definitions' authorizations.
const (
	CollectorApplicationName = "Steward collector"
	// CollectorCertificate is the certificate in Steward's default vault
	// whose key (not exportable) signs the collector's client assertions.
	CollectorCertificate     = "steward-collector"
	collectorIdentityRecord  = "identity"
	collectorIdentityLock    = "collector.identity"
	collectorCertCredDisplay = "vault:" + DefaultVaultName + "/" + CollectorCertificate
)

// CollectorIdentity is the collector's principal: its application (client)
// ID and its service principal's object ID in the home tenant.
type CollectorIdentity struct {
	TenantID      string `json:"tenantId"`
	ApplicationID string `json:"applicationId"`
	ObjectID      string `json:"objectId"`
}

// collectorIdentity registers, once, the collector's application with a
// certificate credential whose key stays in the default vault, and returns
// the principal that signs in with it: each token request carries a
// client assertion the vault signs. admin reaches the vault (Steward's
// own credential holds the right to sign; the collector's principal holds
// only what the definitions' authorizations and its own resources' roles
// give it).
func (cs *collectorServer) collectorIdentity(ctx context.Context, admin azcore.TokenCredential) (CollectorIdentity, collector.Principal, error) {
	s := cs.s
	if s.Cloud == nil {
		return CollectorIdentity{}, collector.Principal{}, errors.New("collector: mount CloudService before the collector")
	}
	lk, err := s.Store.Lock(ctx, collectorIdentityLock)
	if err != nil {
		return CollectorIdentity{}, collector.Principal{}, err
	}
	defer func() { _ = lk.Release(context.WithoutCancel(ctx)) }()
	var id CollectorIdentity
	err = s.Store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, collectorConfigTable, collectorIdentityRecord)
		if err != nil {
			return err
		}
		return json.Unmarshal(r.Value, &id)
	})
	if errors.Is(err, store.ErrNotFound) {
		tenant := s.Bootstrap.TenantID
		app, sp, err := s.Identity.CreateApplication(ctx, tenant, CollectorApplicationName)
		if err != nil {
			return id, collector.Principal{}, fmt.Errorf("collector: registering its application: %w", err)
		}
		id = CollectorIdentity{TenantID: tenant, ApplicationID: app.AppID, ObjectID: sp.ID}
		b, _ := json.Marshal(id)
		if err := s.Store.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put(ctx, collectorConfigTable, collectorIdentityRecord, b, store.IfAbsent())
			return err
		}); err != nil {
			return id, collector.Principal{}, err
		}
	} else if err != nil {
		return id, collector.Principal{}, err
	}

	opts := s.ARMClientOptions()
	vaultURL := "https://" + DefaultVaultName + ".vault.azure.net"
	certs, err := azcertificates.NewClient(vaultURL, admin, &azcertificates.ClientOptions{ClientOptions: opts})
	if err != nil {
		return id, collector.Principal{}, err
	}
	keys, err := azkeys.NewClient(vaultURL, admin, &azkeys.ClientOptions{ClientOptions: opts})
	if err != nil {
		return id, collector.Principal{}, err
	}
	cert, err := certs.GetCertificate(ctx, CollectorCertificate, "", nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		if _, err := certs.CreateCertificate(ctx, CollectorCertificate, azcertificates.CreateCertificateParameters{CertificatePolicy: &azcertificates.CertificatePolicy{
			IssuerParameters:          &azcertificates.IssuerParameters{Name: to.Ptr("Self")},
			KeyProperties:             &azcertificates.KeyProperties{Exportable: to.Ptr(false), KeyType: to.Ptr(azcertificates.KeyTypeRSA), KeySize: to.Ptr[int32](2048)},
			X509CertificateProperties: &azcertificates.X509CertificateProperties{Subject: to.Ptr("CN=" + CollectorApplicationName)},
		}}, nil); err != nil {
			return id, collector.Principal{}, fmt.Errorf("collector: creating its certificate in the vault: %w", err)
		}
		cert, err = certs.GetCertificate(ctx, CollectorCertificate, "", nil)
	}
	if err != nil {
		return id, collector.Principal{}, fmt.Errorf("collector: reading its certificate from the vault (is VaultService mounted?): %w", err)
	}
	if err := cs.registerCertificate(ctx, id, cert.CER); err != nil {
		return id, collector.Principal{}, err
	}
	p, err := collector.CertificatePrincipal(collector.VaultCertificate{TenantID: id.TenantID, ClientID: id.ApplicationID,
		Keys: keys, Certificates: certs, Certificate: CollectorCertificate, AuthorityHost: s.BaseURL}, opts)
	return id, p, err
}

// registerCertificate makes the vault certificate's current version a
// credential of the collector's application unless it already is (the
// vault renews certificates: the next preparation registers the new one).
func (cs *collectorServer) registerCertificate(ctx context.Context, id CollectorIdentity, der []byte) error {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("collector: its vault certificate: %w", err)
	}
	app, err := cs.s.Identity.Directory().Application(ctx, id.TenantID, id.ApplicationID)
	if err != nil {
		return fmt.Errorf("collector: its application %s: %w", id.ApplicationID, err)
	}
	thumb := sha256.Sum256(c.Raw)
	for _, kc := range app.KeyCredentials {
		if bytes.Equal(kc.ThumbprintSHA256, thumb[:]) {
			return nil
		}
	}
	_, err = cs.s.Identity.AddCertificate(ctx, id.TenantID, id.ApplicationID, collectorCertCredDisplay, c)
	return err
}
