package vault

import (
	"context"
	"crypto"
	"crypto/x509"
	"slices"
)

// KeyCreateParams is the body of POST /keys/{name}/create.
type KeyCreateParams struct {
	Kty        string            `json:"kty"`
	KeySize    int               `json:"key_size,omitempty"`
	Crv        string            `json:"crv,omitempty"`
	KeyOps     []string          `json:"key_ops,omitempty"`
	Attributes *Attributes       `json:"attributes,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// KeyImportParams is the body of PUT /keys/{name}.
type KeyImportParams struct {
	Key        *JSONWebKey       `json:"key"`
	HSM        bool              `json:"Hsm,omitempty"`
	Attributes *Attributes       `json:"attributes,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// CreateKey generates a key version in the vault.
func (s *Service) CreateKey(ctx context.Context, v Vault, name string, p KeyCreateParams) (KeyBundle, error) {
	if !validName(name) {
		return KeyBundle{}, badParameter("The key name %q is invalid: use 1 to 127 letters, digits and hyphens.", name)
	}
	k, err := generateKey(s.rand, p.Kty, p.KeySize, p.Crv)
	if err != nil {
		return KeyBundle{}, err
	}
	return s.storeKey(ctx, v, name, p.Kty, k, nil, p.KeyOps, p.Attributes, p.Tags, false)
}

// ImportKey stores a caller's key (a JWK with private members) as a new
// version.
func (s *Service) ImportKey(ctx context.Context, v Vault, name string, p KeyImportParams) (KeyBundle, error) {
	if !validName(name) {
		return KeyBundle{}, badParameter("The key name %q is invalid: use 1 to 127 letters, digits and hyphens.", name)
	}
	if p.Key == nil {
		return KeyBundle{}, badParameter("The key to import is required.")
	}
	priv, pub, err := privateFromJWK(*p.Key)
	if err != nil {
		return KeyBundle{}, err
	}
	kty := p.Key.Kty
	if p.HSM && (kty == "RSA" || kty == "EC") {
		kty += "-HSM"
	}
	return s.storeKey(ctx, v, name, kty, priv, pub, p.Key.KeyOps, p.Attributes, p.Tags, false)
}

// storeKey adds a key version from a private key (or a public key alone).
func (s *Service) storeKey(ctx context.Context, v Vault, name, kty string, priv crypto.Signer, pub crypto.PublicKey, ops []string, attrs *Attributes, tags map[string]string, managed bool) (KeyBundle, error) {
	ver, err := s.keyVersion(kty, priv, pub, ops, attrs, tags, managed)
	if err != nil {
		return KeyBundle{}, err
	}
	var h head
	err = s.update(ctx, func(tx sealedTx) error {
		if old, err := getHead(ctx, tx, v, kindKey, name); err == nil && old.Managed && old.Deleted == nil && !managed {
			return forbiddenOp("Key operation is not allowed on a key backing a certificate; update the certificate instead.")
		}
		var err error
		h, err = addVersion(ctx, tx, v, kindKey, name, ver, nil)
		return err
	})
	if err != nil {
		return KeyBundle{}, err
	}
	return keyBundle(v, h, ver)
}

// keyVersion builds the stored form of a key version.
func (s *Service) keyVersion(kty string, priv crypto.Signer, pub crypto.PublicKey, ops []string, attrs *Attributes, tags map[string]string, managed bool) (version, error) {
	id, err := s.newVersion()
	if err != nil {
		return version{}, err
	}
	if len(ops) == 0 {
		ops = defaultOps(kty)
	}
	for _, op := range ops {
		if !slices.Contains(rsaOps, op) || isEC(kty) && !slices.Contains(ecOps, op) {
			return version{}, badParameter("The key operation %q is not valid for a %s key.", op, kty)
		}
	}
	ver := version{Version: id, Kty: kty, KeyOps: slices.Clone(ops), Tags: tags, Managed: managed, Attributes: s.newAttributes(attrs)}
	if priv != nil {
		if ver.Private, err = marshalPrivate(priv); err != nil {
			return version{}, err
		}
	} else if ver.Public, err = x509.MarshalPKIXPublicKey(pub); err != nil {
		return version{}, err
	}
	if ver.Attributes.Exportable == nil {
		f := false
		ver.Attributes.Exportable = &f
	}
	return ver, nil
}

// publicOf returns a stored key version's public key.
func publicOf(ver version) (crypto.PublicKey, error) {
	if len(ver.Private) > 0 {
		k, err := parsePrivate(ver.Private)
		if err != nil {
			return nil, err
		}
		return k.Public(), nil
	}
	return x509.ParsePKIXPublicKey(ver.Public)
}

func keyBundle(v Vault, h head, ver version) (KeyBundle, error) {
	pub, err := publicOf(ver)
	if err != nil {
		return KeyBundle{}, err
	}
	jwk, err := publicJWK(pub, v.objectID(kindKey, h.Name, ver.Version), ver.Kty, ver.KeyOps)
	if err != nil {
		return KeyBundle{}, err
	}
	return KeyBundle{Key: jwk, Attributes: stamp(v, ver.Attributes), Tags: ver.Tags, Managed: h.Managed}, nil
}

func keyItem(v Vault, h head, ver version) KeyItem {
	return KeyItem{KID: v.objectID(kindKey, h.Name, ""), Attributes: stamp(v, ver.Attributes), Tags: ver.Tags, Managed: h.Managed}
}

// GetKey reads a key version's public part; ver "" is the current one.
func (s *Service) GetKey(ctx context.Context, v Vault, name, ver string) (KeyBundle, error) {
	var h head
	var out version
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, out, err = getVersion(ctx, tx, v, kindKey, name, ver)
		return err
	})
	if err != nil {
		return KeyBundle{}, err
	}
	return keyBundle(v, h, out)
}

// UpdateKey changes a key version's attributes, tags or operations.
func (s *Service) UpdateKey(ctx context.Context, v Vault, name, ver string, p UpdateParams) (KeyBundle, error) {
	var h head
	var out version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, out, err = getVersion(ctx, tx, v, kindKey, name, ver); err != nil {
			return err
		}
		if h.Managed {
			return forbiddenOp("Update key operation is not allowed on a key backing a certificate; update the certificate instead.")
		}
		s.applyUpdate(&out, p)
		if len(p.KeyOps) > 0 {
			out.KeyOps = slices.Clone(p.KeyOps)
		}
		return putVersion(ctx, tx, v, kindKey, name, out)
	})
	if err != nil {
		return KeyBundle{}, err
	}
	return keyBundle(v, h, out)
}

// RotateKey adds a version with the same type, size and operations as the
// current one.
func (s *Service) RotateKey(ctx context.Context, v Vault, name string) (KeyBundle, error) {
	var cur version
	var h head
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, cur, err = getVersion(ctx, tx, v, kindKey, name, "")
		return err
	})
	if err != nil {
		return KeyBundle{}, err
	}
	if h.Managed {
		return KeyBundle{}, forbiddenOp("Rotate is not allowed on a key backing a certificate; create a new certificate version instead.")
	}
	pub, err := publicOf(cur)
	if err != nil {
		return KeyBundle{}, err
	}
	var k crypto.Signer
	if len(cur.Private) == 0 {
		return KeyBundle{}, badParameter("A public-only key cannot be rotated.")
	}
	k, err = generateLike(s, cur.Kty, pub)
	if err != nil {
		return KeyBundle{}, err
	}
	attrs := &Attributes{Enabled: cur.Attributes.Enabled, Exportable: cur.Attributes.Exportable}
	if h.Rotation != nil && h.Rotation.Attributes != nil {
		// The policy's expiryTime sets the new version's expiry.
		if d, ok := parseISODuration(h.Rotation.Attributes.ExpiryTime); ok {
			exp := d.after(s.now()).Unix()
			attrs.Expires = &exp
		}
	}
	return s.storeKey(ctx, v, name, cur.Kty, k, nil, cur.KeyOps, attrs, cur.Tags, false)
}

// ListKeys returns a page of the keys that are not deleted.
func (s *Service) ListKeys(ctx context.Context, v Vault, after string, limit int) ([]KeyItem, string, error) {
	var items []KeyItem
	next, err := s.eachCurrent(ctx, v, kindKey, after, limit, func(h head, ver version) {
		items = append(items, keyItem(v, h, ver))
	})
	return items, next, err
}

// ListKeyVersions returns a page of a key's versions.
func (s *Service) ListKeyVersions(ctx context.Context, v Vault, name, after string, limit int) ([]KeyItem, string, error) {
	var items []KeyItem
	var next string
	err := s.view(ctx, func(tx sealedTx) error {
		vers, n, err := listVersions(ctx, tx, v, kindKey, name, after, limit)
		h, _ := getHead(ctx, tx, v, kindKey, name)
		for _, ver := range vers {
			it := keyItem(v, h, ver)
			it.KID = v.objectID(kindKey, h.Name, ver.Version)
			items = append(items, it)
		}
		next = n
		return err
	})
	return items, next, err
}

// DeleteKey moves a key to the deleted state.
func (s *Service) DeleteKey(ctx context.Context, v Vault, name string) (DeletedKeyBundle, error) {
	var h head
	var cur version
	err := s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, cur, err = getVersion(ctx, tx, v, kindKey, name, ""); err != nil {
			return err
		}
		if h.Managed {
			return forbiddenOp("Delete key operation is not allowed on a key backing a certificate; delete the certificate instead.")
		}
		h, err = s.softDelete(ctx, tx, v, kindKey, name)
		return err
	})
	if err != nil {
		return DeletedKeyBundle{}, err
	}
	b, err := keyBundle(v, h, cur)
	return DeletedKeyBundle{KeyBundle: b, Deleted: v.deletedInfo(kindKey, h)}, err
}

// GetDeletedKey reads a deleted key.
func (s *Service) GetDeletedKey(ctx context.Context, v Vault, name string) (DeletedKeyBundle, error) {
	h, cur, err := s.deletedCurrent(ctx, v, kindKey, name)
	if err != nil {
		return DeletedKeyBundle{}, err
	}
	b, err := keyBundle(v, h, cur)
	return DeletedKeyBundle{KeyBundle: b, Deleted: v.deletedInfo(kindKey, h)}, err
}

// ListDeletedKeys returns a page of deleted keys.
func (s *Service) ListDeletedKeys(ctx context.Context, v Vault, after string, limit int) ([]DeletedKeyItem, string, error) {
	var items []DeletedKeyItem
	next, err := s.eachDeleted(ctx, v, kindKey, after, limit, func(h head, ver version) {
		items = append(items, DeletedKeyItem{KeyItem: keyItem(v, h, ver), Deleted: v.deletedInfo(kindKey, h)})
	})
	return items, next, err
}

// RecoverDeletedKey brings a deleted key back.
func (s *Service) RecoverDeletedKey(ctx context.Context, v Vault, name string) (KeyBundle, error) {
	h, cur, err := s.recoverObject(ctx, v, kindKey, name)
	if err != nil {
		return KeyBundle{}, err
	}
	return keyBundle(v, h, cur)
}

// PurgeDeletedKey removes a deleted key for good.
func (s *Service) PurgeDeletedKey(ctx context.Context, v Vault, name string) error {
	return s.purgeObject(ctx, v, kindKey, name)
}
