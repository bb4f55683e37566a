package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/steward-gov/steward/internal/store"
)

// Storage of the key ring: one record holding the ring of key-encryption
// keys, sealed once under each accepted root key.
const (
	tableKeyring = "vault.keyring"
	keyringKey   = "ring"
)

// keyRing is the list of key-encryption keys, one per term.
type keyRing struct {
	Keys []ringKey `json:"keys"`
}

// ringKey is one key-encryption key.
type ringKey struct {
	Term uint32 `json:"term"`
	Key  []byte `json:"key"`
}

// zero wipes the key bytes of the ring.
func (r *keyRing) zero() {
	for _, k := range r.Keys {
		clear(k.Key)
	}
}

// ringRecord is the stored form: the ring sealed under each root key that
// may open it, by root fingerprint. More than one entry exists while a root
// key rotation is rolled out, so replicas started with either key come up.
type ringRecord struct {
	Roots map[string][]byte `json:"roots"`
}

// rootFingerprint names a root key without revealing it.
func rootFingerprint(root []byte) string {
	h := sha256.New()
	h.Write([]byte("steward vault root key\x00"))
	h.Write(root)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// sealRing encrypts a ring under a root key (AES-256-GCM, the storage path
// and the root's fingerprint as additional data).
func sealRing(root []byte, ring *keyRing, rnd io.Reader) ([]byte, error) {
	plain, err := json.Marshal(ring)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	gcm, err := rootAEAD(root)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+12, 1+12+len(plain)+16)
	out[0] = sealVersion
	if _, err := io.ReadFull(rnd, out[1:13]); err != nil {
		return nil, err
	}
	return gcm.Seal(out, out[1:13], plain, ringAAD(root)), nil
}

// openRing decrypts a ring sealed by sealRing.
func openRing(root, sealed []byte) (*keyRing, error) {
	if len(sealed) < 1+12+16 || sealed[0] != sealVersion {
		return nil, ErrSealed
	}
	gcm, err := rootAEAD(root)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, sealed[1:13], sealed[13:], ringAAD(root))
	if err != nil {
		return nil, ErrSealed
	}
	defer clear(plain)
	var ring keyRing
	if err := json.Unmarshal(plain, &ring); err != nil {
		return nil, fmt.Errorf("seal: key ring: %w", err)
	}
	return &ring, nil
}

func rootAEAD(root []byte) (cipher.AEAD, error) {
	if len(root) != 32 {
		return nil, fmt.Errorf("seal: root key has %d bytes, want 32", len(root))
	}
	blk, err := aes.NewCipher(root)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

func ringAAD(root []byte) []byte {
	return []byte(tableKeyring + "/" + keyringKey + "/" + rootFingerprint(root))
}

// readRing reads the ring record in tx; ok is false when there is none yet.
func readRing(ctx context.Context, tx store.Tx) (rec ringRecord, ok bool, err error) {
	r, err := tx.Get(ctx, tableKeyring, keyringKey)
	if errors.Is(err, store.ErrNotFound) {
		return ringRecord{}, false, nil
	} else if err != nil {
		return ringRecord{}, false, err
	}
	if err := json.Unmarshal(r.Value, &rec); err != nil {
		return ringRecord{}, false, fmt.Errorf("seal: key ring record: %w", err)
	}
	return rec, true, nil
}

// writeRing stores the ring record under cond (IfAbsent when creating it,
// so two replicas starting on a fresh store cannot both create a ring).
func writeRing(ctx context.Context, tx store.Tx, rec ringRecord, cond store.Cond) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = tx.Put(ctx, tableKeyring, keyringKey, b, cond)
	return err
}

// ErrWrongRootKey is returned when the store's key ring is not sealed under
// the root key given (a replica started with another key, or a typo in
// STEWARD_VAULT_ROOT_KEY).
var ErrWrongRootKey = errors.New("seal: the key ring is not sealed under this root key")

// loadOrInitRing opens the key ring with root, creating it (one KEK, term
// 1) on first use.
func loadOrInitRing(ctx context.Context, st store.Store, root []byte, rnd io.Reader) (*keyRing, error) {
	var ring *keyRing
	err := st.Update(ctx, func(tx store.Tx) error {
		ring = nil
		rec, ok, err := readRing(ctx, tx)
		if err != nil {
			return err
		}
		if ok {
			sealed, found := rec.Roots[rootFingerprint(root)]
			if !found {
				return ErrWrongRootKey
			}
			ring, err = openRing(root, sealed)
			return err
		}
		k := make([]byte, 32)
		if _, err := io.ReadFull(rnd, k); err != nil {
			return err
		}
		ring = &keyRing{Keys: []ringKey{{Term: 1, Key: k}}}
		sealed, err := sealRing(root, ring, rnd)
		if err != nil {
			return err
		}
		return writeRing(ctx, tx, ringRecord{Roots: map[string][]byte{rootFingerprint(root): sealed}}, store.IfAbsent())
	})
	if errors.Is(err, store.ErrExists) {
		// Another replica created the ring first: use theirs.
		return loadOrInitRing(ctx, st, root, rnd)
	}
	return ring, err
}

// sortRing orders the keys by term.
func sortRing(r *keyRing) {
	sort.Slice(r.Keys, func(i, j int) bool { return r.Keys[i].Term < r.Keys[j].Term })
}
