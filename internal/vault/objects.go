package vault

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/steward-gov/steward/internal/store"
)

// head is the per-name record of an object: its current version, whether
// it is deleted, and what belongs to the name rather than to a version
// (certificate policy and pending operation, key rotation policy).
type head struct {
	Name    string        `json:"name"`
	Current string        `json:"current"`
	Managed bool          `json:"managed,omitempty"`
	Deleted *deletedState `json:"deleted,omitempty"`
	// CertPolicy and Pending belong to certificates.
	CertPolicy *CertificatePolicy `json:"certPolicy,omitempty"`
	Pending    *pendingOp         `json:"pending,omitempty"`
	// Rotation belongs to keys.
	Rotation *KeyRotationPolicy `json:"rotation,omitempty"`
}

// deletedState records a soft delete.
type deletedState struct {
	Date      int64 `json:"date"`
	PurgeDate int64 `json:"purgeDate"`
}

// version is one version of a secret, key or certificate. Only the fields
// of its kind are set. It is sealed as a whole.
type version struct {
	Version     string            `json:"version"`
	Attributes  Attributes        `json:"attributes"`
	Tags        map[string]string `json:"tags,omitempty"`
	ContentType string            `json:"contentType,omitempty"`
	Managed     bool              `json:"managed,omitempty"`
	// Secrets.
	Value string `json:"value,omitempty"`
	// Keys: the private key (PKCS #8 DER), or for a public-only import the
	// public key (PKIX DER), and the permitted operations.
	Kty     string   `json:"kty,omitempty"`
	KeyOps  []string `json:"keyOps,omitempty"`
	Private []byte   `json:"private,omitempty"`
	Public  []byte   `json:"public,omitempty"`
	// Certificates: the DER certificate and the chain above it.
	Cert  []byte   `json:"cert,omitempty"`
	Chain [][]byte `json:"chain,omitempty"`
}

func objKey(v Vault, k kind, name string) string {
	return strings.ToLower(v.Name) + "/" + string(k) + "/" + strings.ToLower(name)
}

func verKey(v Vault, k kind, name, ver string) string {
	return objKey(v, k, name) + "/" + strings.ToLower(ver)
}

// getHead reads a head whatever its state; ErrNotFound when absent.
func getHead(ctx context.Context, tx sealedTx, v Vault, k kind, name string) (head, error) {
	return getJSON[head](ctx, tx, tableObjects, objKey(v, k, name))
}

// liveHead reads the head of an object that exists and is not deleted.
func liveHead(ctx context.Context, tx sealedTx, v Vault, k kind, name string) (head, error) {
	h, err := getHead(ctx, tx, v, k, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && (h.Deleted != nil || h.Current == "") {
		return head{}, notFound(k, name)
	}
	return h, err
}

// deletedHead reads the head of an object in the deleted state.
func deletedHead(ctx context.Context, tx sealedTx, v Vault, k kind, name string) (head, error) {
	h, err := getHead(ctx, tx, v, k, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && h.Deleted == nil {
		return head{}, deletedNotFound(k, name)
	}
	return h, err
}

func putHead(ctx context.Context, tx sealedTx, v Vault, k kind, h head) error {
	return putJSON(ctx, tx, tableObjects, objKey(v, k, h.Name), h)
}

// getVersion reads a version of a live object; ver "" is the current one.
func getVersion(ctx context.Context, tx sealedTx, v Vault, k kind, name, ver string) (head, version, error) {
	h, err := liveHead(ctx, tx, v, k, name)
	if err != nil {
		return h, version{}, err
	}
	if ver == "" {
		ver = h.Current
	}
	out, err := getJSON[version](ctx, tx, tableVersions, verKey(v, k, name, ver))
	if errors.Is(err, store.ErrNotFound) {
		return h, out, notFound(k, name+"/"+ver)
	}
	return h, out, err
}

func putVersion(ctx context.Context, tx sealedTx, v Vault, k kind, name string, ver version) error {
	return putJSON(ctx, tx, tableVersions, verKey(v, k, name, ver.Version), ver)
}

// checkCreatable fails when the name is held by a deleted object (409) and
// returns the live head when there is one.
func checkCreatable(ctx context.Context, tx sealedTx, v Vault, k kind, name string) (head, bool, error) {
	h, err := getHead(ctx, tx, v, k, name)
	if errors.Is(err, store.ErrNotFound) {
		return head{Name: name}, false, nil
	} else if err != nil {
		return head{}, false, err
	}
	if h.Deleted != nil {
		return head{}, false, conflictDeleted(k, name)
	}
	return h, h.Current != "", nil
}

// addVersion stores ver as the new current version of name, creating the
// head when needed. It fails with 409 when the name is deleted.
func addVersion(ctx context.Context, tx sealedTx, v Vault, k kind, name string, ver version, edit func(*head)) (head, error) {
	h, _, err := checkCreatable(ctx, tx, v, k, name)
	if err != nil {
		return h, err
	}
	h.Current = ver.Version
	h.Managed = ver.Managed
	if edit != nil {
		edit(&h)
	}
	if err := putVersion(ctx, tx, v, k, name, ver); err != nil {
		return h, err
	}
	return h, putHead(ctx, tx, v, k, h)
}

// scanPage reads up to limit records under prefix after the token, for
// list operations paged by $skiptoken.
func scanPage(ctx context.Context, tx sealedTx, table, prefix, after string, limit int) (store.Page, error) {
	return tx.Scan(ctx, table, store.Query{Prefix: prefix, After: after, Limit: limit})
}

// listHeads returns one page of the heads of a kind, deleted or not.
func listHeads(ctx context.Context, tx sealedTx, v Vault, k kind, after string, limit int) ([]head, string, error) {
	p, err := scanPage(ctx, tx, tableObjects, strings.ToLower(v.Name)+"/"+string(k)+"/", after, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]head, 0, len(p.Records))
	for _, r := range p.Records {
		var h head
		if err := json.Unmarshal(r.Value, &h); err != nil {
			return nil, "", err
		}
		out = append(out, h)
	}
	return out, p.Next, nil
}

// listVersions returns one page of the versions of a live object.
func listVersions(ctx context.Context, tx sealedTx, v Vault, k kind, name, after string, limit int) ([]version, string, error) {
	if _, err := liveHead(ctx, tx, v, k, name); err != nil {
		return nil, "", err
	}
	p, err := scanPage(ctx, tx, tableVersions, objKey(v, k, name)+"/", after, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]version, 0, len(p.Records))
	for _, r := range p.Records {
		var ver version
		if err := json.Unmarshal(r.Value, &ver); err != nil {
			return nil, "", err
		}
		out = append(out, ver)
	}
	return out, p.Next, nil
}

// softDelete moves a live object to the deleted state.
func (s *Service) softDelete(ctx context.Context, tx sealedTx, v Vault, k kind, name string) (head, error) {
	h, err := liveHead(ctx, tx, v, k, name)
	if err != nil {
		return h, err
	}
	now := s.unix()
	h.Deleted = &deletedState{Date: now, PurgeDate: now + int64(v.RetentionDays)*86400}
	return h, putHead(ctx, tx, v, k, h)
}

// recoverDeleted brings a deleted object back.
func recoverDeleted(ctx context.Context, tx sealedTx, v Vault, k kind, name string) (head, error) {
	h, err := deletedHead(ctx, tx, v, k, name)
	if err != nil {
		return h, err
	}
	h.Deleted = nil
	return h, putHead(ctx, tx, v, k, h)
}

// purgeDeleted removes a deleted object and all its versions for good.
func (s *Service) purgeDeleted(ctx context.Context, tx sealedTx, v Vault, k kind, name string) error {
	h, err := deletedHead(ctx, tx, v, k, name)
	if err != nil {
		return err
	}
	if v.PurgeProtection && s.unix() < h.Deleted.PurgeDate {
		return forbiddenOp("Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.")
	}
	if err := tx.Delete(ctx, tableObjects, objKey(v, k, name), store.Cond{}); err != nil {
		return err
	}
	s.cache.dropPrefix(objKey(v, k, name) + "/")
	return deletePrefix(ctx, tx, tableVersions, objKey(v, k, name)+"/")
}

// recoveryLevel is what Key Vault reports for a vault's soft-delete
// settings.
func recoveryLevel(v Vault) string {
	level := "Recoverable+Purgeable"
	if v.PurgeProtection {
		level = "Recoverable"
	}
	if v.RetentionDays != 90 {
		level = "Customized" + level
	}
	return level
}

// stamp fills the recovery fields of attributes for output.
func stamp(v Vault, a Attributes) Attributes {
	a.RecoveryLevel = recoveryLevel(v)
	a.RecoverableDays = v.RetentionDays
	if a.Enabled == nil {
		t := true
		a.Enabled = &t
	}
	return a
}

func (v Vault) objectID(k kind, name, ver string) string {
	id := v.URL + "/" + string(k) + "/" + name
	if ver != "" {
		id += "/" + ver
	}
	return id
}

func (v Vault) deletedInfo(k kind, h head) Deleted {
	return Deleted{RecoveryID: v.URL + "/" + k.deletedPath() + "/" + h.Name, DeletedDate: h.Deleted.Date, ScheduledPurgeDate: h.Deleted.PurgeDate}
}
