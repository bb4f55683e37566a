package vault

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// CertificateCreateParams is the body of POST /certificates/{name}/create.
type CertificateCreateParams struct {
	Policy     *CertificatePolicy `json:"policy"`
	Attributes *Attributes        `json:"attributes,omitempty"`
	Tags       map[string]string  `json:"tags,omitempty"`
}

// CertificateImportParams is the body of POST /certificates/{name}/import.
type CertificateImportParams struct {
	Value      string             `json:"value"`
	Password   string             `json:"pwd,omitempty"`
	Policy     *CertificatePolicy `json:"policy,omitempty"`
	Attributes *Attributes        `json:"attributes,omitempty"`
	Tags       map[string]string  `json:"tags,omitempty"`
}

// CertificateMergeParams is the body of POST /certificates/{name}/pending/merge.
type CertificateMergeParams struct {
	X5C        [][]byte          `json:"x5c"`
	Attributes *Attributes       `json:"attributes,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// CertificateUpdateParams is the body of PATCH on a certificate version.
type CertificateUpdateParams struct {
	Policy     *CertificatePolicy `json:"policy,omitempty"`
	Attributes *Attributes        `json:"attributes,omitempty"`
	Tags       map[string]string  `json:"tags,omitempty"`
}

// pendingDetails is the status_details of an operation in progress.
const pendingDetails = "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later."

// CreateCertificate starts a certificate version from a policy. With the
// Self issuer it completes at once (the stored operation's status is
// "completed", while the answer says "inProgress" as Key Vault's does);
// with Unknown it leaves a pending operation with a CSR that
// MergeCertificate completes.
func (s *Service) CreateCertificate(ctx context.Context, v Vault, name string, p CertificateCreateParams) (CertificateOperation, error) {
	if !validName(name) {
		return CertificateOperation{}, badParameter("The certificate name %q is invalid: use 1 to 127 letters, digits and hyphens.", name)
	}
	pol, err := normalizePolicy(p.Policy, s.unix())
	if err != nil {
		return CertificateOperation{}, err
	}
	kp := pol.KeyProps
	key, err := generateKey(s.rand, kp.Kty, kp.KeySize, kp.Crv)
	if err != nil {
		return CertificateOperation{}, err
	}
	now := s.now()
	requestID, _ := s.newVersion()
	op := CertificateOperation{Issuer: pol.Issuer, Status: "inProgress", RequestID: requestID, StatusDetails: pendingDetails}
	if pol.Issuer.Name == IssuerUnknown {
		csr, err := makeCSR(pol, key, now, s.rand)
		if err != nil {
			return CertificateOperation{}, err
		}
		op.CSR = csr
		op.StatusDetails = "Pending certificate created. Please Perform Merge to complete the request."
		der, err := marshalPrivate(key)
		if err != nil {
			return CertificateOperation{}, err
		}
		pending := &pendingOp{Op: op, Private: der, Kty: kp.Kty, Attributes: p.Attributes, Tags: p.Tags}
		err = s.update(ctx, func(tx sealedTx) error {
			h, _, err := checkCreatable(ctx, tx, v, kindCert, name)
			if err != nil {
				return err
			}
			if err := s.checkBacking(ctx, tx, v, name); err != nil {
				return err
			}
			h.Name, h.CertPolicy, h.Pending = name, pol, pending
			return putHead(ctx, tx, v, kindCert, h)
		})
		if err != nil {
			return CertificateOperation{}, err
		}
		op.ID = v.objectID(kindCert, name, "pending")
		return op, nil
	}
	der, err := selfSign(pol, key, now, s.rand)
	if err != nil {
		return CertificateOperation{}, err
	}
	// The operation shows the CSR of a self-issued certificate too, as Key
	// Vault's CreateCertificate example does.
	if op.CSR, err = makeCSR(pol, key, now, s.rand); err != nil {
		return CertificateOperation{}, err
	}
	var h head
	err = s.update(ctx, func(tx sealedTx) error {
		var err error
		h, err = s.issue(ctx, tx, v, name, pol, key, der, nil, p.Attributes, p.Tags, &op)
		return err
	})
	if err != nil {
		return CertificateOperation{}, err
	}
	// Key Vault answers a create with the operation in progress (202) even
	// for a self-issued certificate, and clients poll the operation: the
	// Python SDK's poller never polls, and returns no certificate, when the
	// first answer is already "completed".
	res := h.Pending.Op
	res.Status, res.StatusDetails, res.Target = "inProgress", pendingDetails, ""
	return res, nil
}

// checkBacking fails when the certificate's key or secret name is taken
// by an object the certificate does not manage, or is deleted.
func (s *Service) checkBacking(ctx context.Context, tx sealedTx, v Vault, name string) error {
	for _, k := range []kind{kindKey, kindSecret} {
		h, err := getHead(ctx, tx, v, k, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if h.Deleted != nil {
			return conflictDeleted(k, name)
		}
		if !h.Managed {
			return &Error{Status: 409, Code: "Conflict", Message: fmt.Sprintf("A %s named %s already exists; a certificate's key and secret take the certificate's name.", k.singular(), name)}
		}
	}
	return nil
}

// issue stores a new certificate version with its backing key and secret
// (same name, same version), and marks the operation completed.
func (s *Service) issue(ctx context.Context, tx sealedTx, v Vault, name string, pol *CertificatePolicy, key crypto.Signer, der []byte, chain [][]byte, attrs *Attributes, tags map[string]string, op *CertificateOperation) (head, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return head{}, badParameter("The certificate is not valid X.509.")
	}
	id, err := s.newVersion()
	if err != nil {
		return head{}, err
	}
	h, _, err := checkCreatable(ctx, tx, v, kindCert, name)
	if err != nil {
		return head{}, err
	}
	if err := s.checkBacking(ctx, tx, v, name); err != nil {
		return head{}, err
	}
	nbf, exp := cert.NotBefore.Unix(), cert.NotAfter.Unix()
	a := s.newAttributes(attrs)
	a.NotBefore, a.Expires, a.Exportable = &nbf, &exp, nil
	certVer := version{Version: id, Attributes: a, Tags: tags, Cert: der, Chain: chain}
	keyAttrs := a
	keyAttrs.Exportable = pol.KeyProps.Exportable
	kty := pol.KeyProps.Kty
	keyVer, err := s.keyVersion(kty, key, nil, opsForUsage(pol.X509Props.KeyUsage, kty), &keyAttrs, tags, true)
	if err != nil {
		return head{}, err
	}
	keyVer.Version, keyVer.Attributes.Created, keyVer.Attributes.Updated = id, a.Created, a.Updated
	exportKey := key
	if !*pol.KeyProps.Exportable {
		exportKey = nil
	}
	value, err := secretValue(pol.SecretProps.ContentType, exportKey, der, chain)
	if err != nil {
		return head{}, err
	}
	secVer := version{Version: id, Attributes: a, Tags: tags, Value: value, ContentType: pol.SecretProps.ContentType, Managed: true}
	for _, w := range []struct {
		k   kind
		ver version
	}{{kindKey, keyVer}, {kindSecret, secVer}} {
		if _, err := addVersion(ctx, tx, v, w.k, name, w.ver, nil); err != nil {
			return head{}, err
		}
	}
	if op == nil {
		op = &CertificateOperation{Issuer: pol.Issuer}
	}
	op.ID = v.objectID(kindCert, name, "pending")
	op.Status, op.StatusDetails = "completed", "Certificate issued."
	op.Target = v.objectID(kindCert, name, "")
	h.Name, h.Current, h.CertPolicy = name, id, pol
	h.Pending = &pendingOp{Op: *op}
	if err := putVersion(ctx, tx, v, kindCert, name, certVer); err != nil {
		return head{}, err
	}
	return h, putHead(ctx, tx, v, kindCert, h)
}

// MergeCertificate completes an Unknown-issuer operation with the
// certificate a CA issued for its CSR (x5c: leaf first).
func (s *Service) MergeCertificate(ctx context.Context, v Vault, name string, p CertificateMergeParams) (CertificateBundle, error) {
	if len(p.X5C) == 0 {
		return CertificateBundle{}, badParameter("x5c must hold the issued certificate.")
	}
	var h head
	var ver version
	err := s.update(ctx, func(tx sealedTx) error {
		cur, err := getHead(ctx, tx, v, kindCert, name)
		if errors.Is(err, store.ErrNotFound) || err == nil && (cur.Pending == nil || cur.Pending.Op.Status != "inProgress" || cur.Deleted != nil) {
			return &Error{Status: 404, Code: "PendingCertificateNotFound", Message: fmt.Sprintf("Pending certificate not found: %s", name)}
		} else if err != nil {
			return err
		}
		key, err := parsePrivate(cur.Pending.Private)
		if err != nil {
			return err
		}
		leaf, err := x509.ParseCertificate(p.X5C[0])
		if err != nil {
			return badParameter("The first certificate in x5c is not valid X.509.")
		}
		if !publicMatches(key.Public(), leaf) {
			return badParameter("Public key from x5c parameter does not match with key of the certificate.")
		}
		attrs := p.Attributes
		if attrs == nil {
			attrs = cur.Pending.Attributes
		}
		tags := p.Tags
		if tags == nil {
			tags = cur.Pending.Tags
		}
		op := cur.Pending.Op
		if h, err = s.issue(ctx, tx, v, name, cur.CertPolicy, key, p.X5C[0], p.X5C[1:], attrs, tags, &op); err != nil {
			return err
		}
		ver, err = getJSON[version](ctx, tx, tableVersions, verKey(v, kindCert, name, h.Current))
		return err
	})
	if err != nil {
		return CertificateBundle{}, err
	}
	return certBundle(v, h, ver, true), nil
}

// ImportCertificate stores a PFX or PEM certificate with its private key
// as a new version. The import password is not kept: the backing secret
// is exported with a blank one, as Key Vault does.
func (s *Service) ImportCertificate(ctx context.Context, v Vault, name string, p CertificateImportParams) (CertificateBundle, error) {
	if !validName(name) {
		return CertificateBundle{}, badParameter("The certificate name %q is invalid: use 1 to 127 letters, digits and hyphens.", name)
	}
	if p.Value == "" {
		return CertificateBundle{}, badParameter("The certificate value is required.")
	}
	key, der, chain, inputType, err := decodeImport(p.Value, p.Password)
	if err != nil {
		return CertificateBundle{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return CertificateBundle{}, badParameter("The certificate is not valid X.509.")
	}
	in := p.Policy
	if in == nil {
		in = &CertificatePolicy{}
	}
	in = clonePolicy(in)
	if in.X509Props == nil {
		in.X509Props = &X509Properties{Subject: leaf.Subject.String(), ValidityMonths: monthsBetween(leaf.NotBefore, leaf.NotAfter)}
	}
	if in.KeyProps == nil {
		in.KeyProps = &KeyProperties{Kty: ktyOf(key.Public())}
	}
	if in.KeyProps.Kty == "" {
		in.KeyProps.Kty = ktyOf(key.Public())
	}
	if in.SecretProps == nil {
		in.SecretProps = &SecretProperties{ContentType: inputType}
	}
	if in.Issuer == nil {
		in.Issuer = &IssuerParameters{Name: IssuerUnknown}
	}
	pol, err := normalizePolicy(in, s.unix())
	if err != nil {
		return CertificateBundle{}, err
	}
	var h head
	var ver version
	err = s.update(ctx, func(tx sealedTx) error {
		var err error
		if h, err = s.issue(ctx, tx, v, name, pol, key, der, chain, p.Attributes, p.Tags, nil); err != nil {
			return err
		}
		h.Pending = nil
		if err := putHead(ctx, tx, v, kindCert, h); err != nil {
			return err
		}
		ver, err = getJSON[version](ctx, tx, tableVersions, verKey(v, kindCert, name, h.Current))
		return err
	})
	if err != nil {
		return CertificateBundle{}, err
	}
	return certBundle(v, h, ver, true), nil
}

func monthsBetween(a, b time.Time) int {
	m := (b.Year()-a.Year())*12 + int(b.Month()-a.Month())
	if m < 1 {
		m = 1
	}
	return m
}

func certBundle(v Vault, h head, ver version, withPolicy bool) CertificateBundle {
	b := CertificateBundle{
		ID: v.objectID(kindCert, h.Name, ver.Version), KID: v.objectID(kindKey, h.Name, ver.Version),
		SID: v.objectID(kindSecret, h.Name, ver.Version), X5T: x5t(ver.Cert), CER: ver.Cert,
		Attributes: stamp(v, ver.Attributes), Tags: ver.Tags,
	}
	if h.CertPolicy != nil {
		b.ContentType = h.CertPolicy.SecretProps.ContentType
		if withPolicy {
			p := clonePolicy(h.CertPolicy)
			p.ID = v.objectID(kindCert, h.Name, "policy")
			b.Policy = p
		}
	}
	return b
}

func certItem(v Vault, h head, ver version, idVersion string) CertificateItem {
	return CertificateItem{ID: v.objectID(kindCert, h.Name, idVersion), X5T: x5t(ver.Cert), Attributes: stamp(v, ver.Attributes), Tags: ver.Tags}
}
