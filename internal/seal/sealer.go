package seal

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/steward-gov/steward/internal/store"
)

// Sealer owns Steward's encryption at rest: the root key, the key ring it
// unseals from the store, and the [Barrier] over that ring. It reloads the
// ring when it meets a value sealed under a term it does not know, so a KEK
// rotated by another replica is picked up without a restart.
//
// A Sealer is safe for concurrent use. Close zeroes the root key and the
// KEKs.
type Sealer struct {
	st   store.Store
	rnd  io.Reader
	mu   sync.Mutex // serializes reloads and rotations
	root []byte
	b    atomic.Pointer[Barrier]
}

// OpenSealer opens (or on first use creates) the key ring in st with the
// root key, which must be 32 bytes. The Sealer keeps its own copy of root;
// the caller may zero theirs.
func OpenSealer(ctx context.Context, st store.Store, root []byte, rnd io.Reader) (*Sealer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	s := &Sealer{st: st, rnd: rnd, root: append([]byte(nil), root...)}
	if err := s.reload(ctx); err != nil {
		clear(s.root)
		return nil, err
	}
	return s, nil
}

// reload reads the key ring and swaps in a barrier over it.
func (s *Sealer) reload(ctx context.Context) error {
	ring, err := loadOrInitRing(ctx, s.st, s.root, s.rnd)
	if err != nil {
		return err
	}
	defer ring.zero()
	b, err := newBarrier(ring, s.rnd)
	if err != nil {
		return err
	}
	if old := s.b.Swap(b); old != nil {
		old.Close()
	}
	return nil
}

// Seal encrypts plain for a storage path.
func (s *Sealer) Seal(path string, plain []byte) ([]byte, error) {
	return s.b.Load().Seal(path, plain)
}

// Open decrypts a value sealed for path, reloading the key ring once when
// the value's term is newer than any this Sealer knows.
func (s *Sealer) Open(ctx context.Context, path string, sealed []byte) ([]byte, error) {
	plain, err := s.b.Load().Open(path, sealed)
	if !errors.Is(err, ErrSealed) || len(sealed) < 5 {
		return plain, err
	}
	if termOf(sealed) <= s.b.Load().ActiveTerm() {
		return nil, err
	}
	s.mu.Lock()
	if termOf(sealed) > s.b.Load().ActiveTerm() {
		if rerr := s.reload(ctx); rerr != nil {
			s.mu.Unlock()
			return nil, rerr
		}
	}
	s.mu.Unlock()
	return s.b.Load().Open(path, sealed)
}

func termOf(sealed []byte) uint32 {
	return uint32(sealed[1])<<24 | uint32(sealed[2])<<16 | uint32(sealed[3])<<8 | uint32(sealed[4])
}

// RotateKEK adds a key-encryption key with the next term; new values are
// sealed under it, old values stay readable. Existing data is not
// re-encrypted. The ring is re-sealed under the current root key only, so
// finish a root key rotation (RetireOtherRoots) before rotating KEKs.
func (s *Sealer) RotateKEK(ctx context.Context) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var term uint32
	err := s.editRing(ctx, func(rec *ringRecord, ring *keyRing) error {
		sortRing(ring)
		k := make([]byte, 32)
		if _, err := io.ReadFull(s.rnd, k); err != nil {
			return err
		}
		term = ring.Keys[len(ring.Keys)-1].Term + 1
		ring.Keys = append(ring.Keys, ringKey{Term: term, Key: k})
		sealed, err := sealRing(s.root, ring, s.rnd)
		if err != nil {
			return err
		}
		rec.Roots = map[string][]byte{rootFingerprint(s.root): sealed}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return term, s.reload(ctx)
}

// RotateRoot seals the key ring under next as well as under the current
// root key and makes next this Sealer's root. Replicas still running, or
// restarting, with the old root key keep working until RetireOtherRoots
// drops it; no data is re-encrypted, so the rotation costs one write.
func (s *Sealer) RotateRoot(ctx context.Context, next []byte) error {
	if _, err := rootAEAD(next); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.editRing(ctx, func(rec *ringRecord, ring *keyRing) error {
		sealed, err := sealRing(next, ring, s.rnd)
		if err != nil {
			return err
		}
		rec.Roots[rootFingerprint(next)] = sealed
		return nil
	})
	if err != nil {
		return err
	}
	clear(s.root)
	s.root = append([]byte(nil), next...)
	return nil
}

// RetireOtherRoots removes the copies of the key ring sealed under any root
// key but this Sealer's, ending a root key rotation.
func (s *Sealer) RetireOtherRoots(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Update(ctx, func(tx store.Tx) error {
		rec, ok, err := readRing(ctx, tx)
		if err != nil {
			return err
		}
		own, found := rec.Roots[rootFingerprint(s.root)]
		if !ok || !found {
			return ErrWrongRootKey
		}
		return writeRing(ctx, tx, ringRecord{Roots: map[string][]byte{rootFingerprint(s.root): own}}, store.Cond{})
	})
}

// editRing opens the stored key ring with the current root key and lets
// edit change the record (the ring is zeroed afterwards), in one
// transaction. The caller holds s.mu.
func (s *Sealer) editRing(ctx context.Context, edit func(rec *ringRecord, ring *keyRing) error) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		rec, ok, err := readRing(ctx, tx)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWrongRootKey
		}
		sealed, found := rec.Roots[rootFingerprint(s.root)]
		if !found {
			return ErrWrongRootKey
		}
		ring, err := openRing(s.root, sealed)
		if err != nil {
			return err
		}
		defer ring.zero()
		if err := edit(&rec, ring); err != nil {
			return err
		}
		return writeRing(ctx, tx, rec, store.Cond{})
	})
}

// Close zeroes the root key and the KEKs.
func (s *Sealer) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.root)
	if b := s.b.Load(); b != nil {
		b.Close()
	}
}
