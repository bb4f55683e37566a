package vault

import (
	"context"
	"crypto"
	"fmt"
	"slices"
)

// KeyOperationParams is the body of encrypt, decrypt, wrapkey, unwrapkey
// and sign (value is the digest for sign), all base64url.
type KeyOperationParams struct {
	Alg   string `json:"alg"`
	Value string `json:"value"`
}

// KeyVerifyParams is the body of verify.
type KeyVerifyParams struct {
	Alg    string `json:"alg"`
	Digest string `json:"digest"`
	Value  string `json:"value"`
}

// usableKey reads a key version for a cryptographic operation: it must
// allow op and be enabled and within its nbf/exp window. The private key
// (nil for a public-only key) never leaves the process.
func (s *Service) usableKey(ctx context.Context, v Vault, name, ver, op string) (string, crypto.Signer, crypto.PublicKey, error) {
	ck := verKey(v, kindKey, name, ver)
	h, kv, hit := s.opKeys.get(ck, s.now())
	if !hit {
		gen := s.opKeys.generation()
		err := s.view(ctx, func(tx sealedTx) error {
			var err error
			h, kv, err = getVersion(ctx, tx, v, kindKey, name, ver)
			return err
		})
		if err != nil {
			return "", nil, nil, err
		}
		s.opKeys.put(ck, h, kv, gen, s.now())
	}
	kid := v.objectID(kindKey, h.Name, kv.Version)
	now := s.unix()
	switch a := kv.Attributes; {
	case !a.enabled():
		return "", nil, nil, forbiddenOp(fmt.Sprintf("Operation %s is not allowed on a disabled key.", op))
	case a.NotBefore != nil && now < *a.NotBefore:
		return "", nil, nil, forbiddenOp(fmt.Sprintf("Operation %s is not allowed on a key that is not yet valid.", op))
	case a.Expires != nil && now >= *a.Expires:
		return "", nil, nil, forbiddenOp(fmt.Sprintf("Operation %s is not allowed on an expired key.", op))
	}
	if !slices.Contains(kv.KeyOps, op) {
		return "", nil, nil, forbiddenOp(fmt.Sprintf("Operation %s is not permitted on this key.", op))
	}
	if len(kv.Private) == 0 {
		pub, err := publicOf(kv)
		return kid, nil, pub, err
	}
	k, err := s.cache.get(verKey(v, kindKey, name, kv.Version), kv.Private)
	if err != nil {
		return "", nil, nil, err
	}
	return kid, k, k.Public(), nil
}

func needPrivate(k crypto.Signer, op string) error {
	if k == nil {
		return badParameter("Operation %s needs the private key, and this key was imported without one.", op)
	}
	return nil
}

func decodeParam(name, s string) ([]byte, error) {
	b, err := decodeB64(s)
	if err != nil {
		return nil, badParameter("The %s is not base64url.", name)
	}
	return b, nil
}

// Sign signs a digest with a key version.
func (s *Service) Sign(ctx context.Context, v Vault, name, ver string, p KeyOperationParams) (KeyOperationResult, error) {
	digest, err := decodeParam("value", p.Value)
	if err != nil {
		return KeyOperationResult{}, err
	}
	kid, k, _, err := s.usableKey(ctx, v, name, ver, "sign")
	if err != nil {
		return KeyOperationResult{}, err
	}
	if err := needPrivate(k, "sign"); err != nil {
		return KeyOperationResult{}, err
	}
	sig, err := sign(s.rand, k, p.Alg, digest)
	if err != nil {
		return KeyOperationResult{}, err
	}
	return KeyOperationResult{KID: kid, Value: b64url.EncodeToString(sig)}, nil
}

// Verify checks a signature over a digest with a key version.
func (s *Service) Verify(ctx context.Context, v Vault, name, ver string, p KeyVerifyParams) (KeyVerifyResult, error) {
	digest, err := decodeParam("digest", p.Digest)
	if err != nil {
		return KeyVerifyResult{}, err
	}
	sig, err := decodeParam("value", p.Value)
	if err != nil {
		return KeyVerifyResult{}, err
	}
	_, _, pub, err := s.usableKey(ctx, v, name, ver, "verify")
	if err != nil {
		return KeyVerifyResult{}, err
	}
	ok, err := verify(pub, p.Alg, digest, sig)
	return KeyVerifyResult{Value: ok}, err
}

// Crypt runs encrypt, decrypt, wrapKey or unwrapKey.
func (s *Service) Crypt(ctx context.Context, v Vault, name, ver, op string, p KeyOperationParams) (KeyOperationResult, error) {
	in, err := decodeParam("value", p.Value)
	if err != nil {
		return KeyOperationResult{}, err
	}
	kid, k, pub, err := s.usableKey(ctx, v, name, ver, op)
	if err != nil {
		return KeyOperationResult{}, err
	}
	var out []byte
	switch op {
	case "encrypt", "wrapKey":
		out, err = encrypt(s.rand, pub, p.Alg, in)
	case "decrypt", "unwrapKey":
		if err := needPrivate(k, op); err != nil {
			return KeyOperationResult{}, err
		}
		out, err = decrypt(k, p.Alg, in)
	default:
		return KeyOperationResult{}, badParameter("Unknown key operation %q.", op)
	}
	if err != nil {
		return KeyOperationResult{}, err
	}
	return KeyOperationResult{KID: kid, Value: b64url.EncodeToString(out)}, nil
}

// defaultRotationPolicy is what Key Vault returns for a key without a
// policy: notify 30 days before expiry.
func defaultRotationPolicy() KeyRotationPolicy {
	var a LifetimeAction
	a.Trigger.TimeBeforeExpiry = "P30D"
	a.Action.Type = "Notify"
	return KeyRotationPolicy{LifetimeActions: []LifetimeAction{a}}
}

// GetRotationPolicy reads a key's rotation policy.
func (s *Service) GetRotationPolicy(ctx context.Context, v Vault, name string) (KeyRotationPolicy, error) {
	var h head
	err := s.view(ctx, func(tx sealedTx) error {
		var err error
		h, err = liveHead(ctx, tx, v, kindKey, name)
		return err
	})
	if err != nil {
		return KeyRotationPolicy{}, err
	}
	p := defaultRotationPolicy()
	if h.Rotation != nil {
		p = *h.Rotation
	}
	p.ID = v.objectID(kindKey, h.Name, "rotationpolicy")
	return p, nil
}

// SetRotationPolicy replaces a key's rotation policy. Actions are Rotate
// or Notify with an ISO 8601 duration trigger.
func (s *Service) SetRotationPolicy(ctx context.Context, v Vault, name string, p KeyRotationPolicy) (KeyRotationPolicy, error) {
	for _, a := range p.LifetimeActions {
		switch a.Action.Type {
		case "Rotate", "Notify", "rotate", "notify":
		default:
			return KeyRotationPolicy{}, badParameter("The lifetime action type %q is invalid: use Rotate or Notify.", a.Action.Type)
		}
		for _, d := range []string{a.Trigger.TimeAfterCreate, a.Trigger.TimeBeforeExpiry} {
			if d != "" && !validISODuration(d) {
				return KeyRotationPolicy{}, badParameter("The trigger %q is not an ISO 8601 duration.", d)
			}
		}
	}
	now := s.unix()
	err := s.update(ctx, func(tx sealedTx) error {
		h, err := liveHead(ctx, tx, v, kindKey, name)
		if err != nil {
			return err
		}
		if p.Attributes == nil {
			p.Attributes = &PolicyTimes{}
		}
		p.Attributes.Updated = now
		p.Attributes.Created = now
		if h.Rotation != nil && h.Rotation.Attributes != nil {
			p.Attributes.Created = h.Rotation.Attributes.Created
		}
		p.ID = ""
		h.Rotation = &p
		return putHead(ctx, tx, v, kindKey, h)
	})
	if err != nil {
		return KeyRotationPolicy{}, err
	}
	p.ID = v.objectID(kindKey, name, "rotationpolicy")
	return p, nil
}

// validISODuration accepts the durations parseISODuration reads.
func validISODuration(s string) bool {
	_, ok := parseISODuration(s)
	return ok
}
