package vault

import (
	"context"
	"maps"
)

// MaxSecretBytes is the largest secret value Key Vault accepts (25 KiB).
const MaxSecretBytes = 25 * 1024

// SecretSetParams is the body of PUT /secrets/{name}.
type SecretSetParams struct {
	Value       *string           `json:"value"`
	ContentType string            `json:"contentType,omitempty"`
	Attributes  *Attributes       `json:"attributes,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// UpdateParams is the body of PATCH on a secret, key or certificate
// version: only the fields present change.
type UpdateParams struct {
	ContentType *string           `json:"contentType,omitempty"`
	Attributes  *Attributes       `json:"attributes,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	KeyOps      []string          `json:"key_ops,omitempty"`
}

// SetSecret adds a version to a secret, creating it when needed.
func (s *Service) SetSecret(ctx context.Context, v Vault, name string, p SecretSetParams) (SecretBundle, error) {
	if !validName(name) {
		return SecretBundle{}, badParameter("The secret name %q is invalid: use 1 to 127 letters, digits and hyphens.", name)
	}
	if p.Value == nil {
		return SecretBundle{}, badParameter("The secret value is required.")
	}
	if len(*p.Value) > MaxSecretBytes {
		return SecretBundle{}, badParameter("The secret value exceeds the maximum size of %d bytes.", MaxSecretBytes)
	}
	id, err := s.newVersion()
	if err != nil {
		return SecretBundle{}, err
	}
	ver := version{Version: id, Value: *p.Value, ContentType: p.ContentType, Tags: p.Tags, Attributes: s.newAttributes(p.Attributes)}
	var h head
	err = s.update(ctx, func(tx sealedTx) error {
		if old, err := getHead(ctx, tx, v, kindSecret, name); err == nil && old.Managed && old.Deleted == nil {
			return forbiddenOp("Set secret operation is not allowed on a secret backing a certificate; update the certificate instead.")
		}
		var err error
		h, err = addVersion(ctx, tx, v, kindSecret, name, ver, nil)
		return err
	})
	if err != nil {
		return SecretBundle{}, err
	}
	return secretBundle(v, h, ver), nil
}

// newAttributes returns the attributes of a new version: the caller's
// enabled, nbf and exp, with created and updated set to now.
func (s *Service) newAttributes(in *Attributes) Attributes {
	var a Attributes
	if in != nil {
		a.Enabled, a.NotBefore, a.Expires, a.Exportable = in.Enabled, in.NotBefore, in.Expires, in.Exportable
	}
	now := s.unix()
	a.Created, a.Updated = now, now
	return a
}

// applyUpdate changes the fields of ver that p carries.
func (s *Service) applyUpdate(ver *version, p UpdateParams) {
	if p.ContentType != nil {
		ver.ContentType = *p.ContentType
	}
	if a := p.Attributes; a != nil {
		if a.Enabled != nil {
			ver.Attributes.Enabled = a.Enabled
		}
		if a.NotBefore != nil {
			ver.Attributes.NotBefore = a.NotBefore
		}
		if a.Expires != nil {
			ver.Attributes.Expires = a.Expires
		}
	}
	if p.Tags != nil {
		ver.Tags = maps.Clone(p.Tags)
	}
	ver.Attributes.Updated = s.unix()
}

// GetSecret reads a secret version with its value; ver "" is the current
// version. A disabled version is refused (403), as Key Vault does.
func (s *Service) GetSecret(ctx context.Context, v Vault, name, ver string) (SecretBundle, error) {
	var h head
	var out version
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, out, err = getVersion(ctx, tx, v, kindSecret, name, ver)
		return err
	})
	if err != nil {
		return SecretBundle{}, err
	}
	if !out.Attributes.enabled() {
		return SecretBundle{}, forbiddenOp("Operation get is not allowed on a disabled secret.")
	}
	return secretBundle(v, h, out), nil
}

// UpdateSecret changes a version's content type, attributes or tags.
func (s *Service) UpdateSecret(ctx context.Context, v Vault, name, ver string, p UpdateParams) (SecretBundle, error) {
	var h head
	var out version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, out, err = getVersion(ctx, tx, v, kindSecret, name, ver); err != nil {
			return err
		}
		if h.Managed {
			return forbiddenOp("Update secret operation is not allowed on a secret backing a certificate; update the certificate instead.")
		}
		s.applyUpdate(&out, p)
		return putVersion(ctx, tx, v, kindSecret, name, out)
	})
	if err != nil {
		return SecretBundle{}, err
	}
	b := secretBundle(v, h, out)
	b.Value = ""
	return b, nil
}

// ListSecrets returns a page of the secrets that are not deleted.
func (s *Service) ListSecrets(ctx context.Context, v Vault, after string, limit int) ([]SecretItem, string, error) {
	var items []SecretItem
	next, err := s.eachCurrent(ctx, v, kindSecret, after, limit, func(h head, ver version) {
		items = append(items, secretItem(v, h, ver, ""))
	})
	return items, next, err
}

// ListSecretVersions returns a page of a secret's versions.
func (s *Service) ListSecretVersions(ctx context.Context, v Vault, name, after string, limit int) ([]SecretItem, string, error) {
	var items []SecretItem
	var next string
	err := s.view(ctx, func(tx sealedTx) error {
		vers, n, err := listVersions(ctx, tx, v, kindSecret, name, after, limit)
		h, _ := getHead(ctx, tx, v, kindSecret, name)
		for _, ver := range vers {
			items = append(items, secretItem(v, h, ver, ver.Version))
		}
		next = n
		return err
	})
	return items, next, err
}

// DeleteSecret moves a secret to the deleted state.
func (s *Service) DeleteSecret(ctx context.Context, v Vault, name string) (DeletedSecretBundle, error) {
	var h head
	var cur version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, cur, err = getVersion(ctx, tx, v, kindSecret, name, ""); err != nil {
			return err
		}
		if h.Managed {
			return forbiddenOp("Delete secret operation is not allowed on a secret backing a certificate; delete the certificate instead.")
		}
		h, err = s.softDelete(ctx, tx, v, kindSecret, name)
		return err
	})
	if err != nil {
		return DeletedSecretBundle{}, err
	}
	b := secretBundle(v, h, cur)
	b.Value = ""
	return DeletedSecretBundle{SecretBundle: b, Deleted: v.deletedInfo(kindSecret, h)}, nil
}

// GetDeletedSecret reads a deleted secret (without its value).
func (s *Service) GetDeletedSecret(ctx context.Context, v Vault, name string) (DeletedSecretBundle, error) {
	h, cur, err := s.deletedCurrent(ctx, v, kindSecret, name)
	if err != nil {
		return DeletedSecretBundle{}, err
	}
	b := secretBundle(v, h, cur)
	b.Value = ""
	return DeletedSecretBundle{SecretBundle: b, Deleted: v.deletedInfo(kindSecret, h)}, nil
}

// ListDeletedSecrets returns a page of deleted secrets.
func (s *Service) ListDeletedSecrets(ctx context.Context, v Vault, after string, limit int) ([]DeletedSecretItem, string, error) {
	var items []DeletedSecretItem
	next, err := s.eachDeleted(ctx, v, kindSecret, after, limit, func(h head, ver version) {
		items = append(items, DeletedSecretItem{SecretItem: secretItem(v, h, ver, ""), Deleted: v.deletedInfo(kindSecret, h)})
	})
	return items, next, err
}

// RecoverDeletedSecret brings a deleted secret back.
func (s *Service) RecoverDeletedSecret(ctx context.Context, v Vault, name string) (SecretBundle, error) {
	h, cur, err := s.recoverObject(ctx, v, kindSecret, name)
	if err != nil {
		return SecretBundle{}, err
	}
	b := secretBundle(v, h, cur)
	b.Value = ""
	return b, nil
}

// PurgeDeletedSecret removes a deleted secret for good.
func (s *Service) PurgeDeletedSecret(ctx context.Context, v Vault, name string) error {
	return s.purgeObject(ctx, v, kindSecret, name)
}

func secretBundle(v Vault, h head, ver version) SecretBundle {
	b := SecretBundle{Value: ver.Value, ID: v.objectID(kindSecret, h.Name, ver.Version), ContentType: ver.ContentType,
		Attributes: stamp(v, ver.Attributes), Tags: ver.Tags, Managed: h.Managed}
	if h.Managed {
		b.KID = v.objectID(kindKey, h.Name, ver.Version)
	}
	return b
}

func secretItem(v Vault, h head, ver version, idVersion string) SecretItem {
	return SecretItem{ID: v.objectID(kindSecret, h.Name, idVersion), ContentType: ver.ContentType,
		Attributes: stamp(v, ver.Attributes), Tags: ver.Tags, Managed: h.Managed}
}
