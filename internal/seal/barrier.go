package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// sealVersion is the first byte of every sealed value. A future format
// (another AEAD, another key layout) gets another byte, so old values stay
// readable.
const sealVersion byte = 0x01

// sealOverhead is the version byte, the 4-byte key term and the 12-byte
// nonce in front of the ciphertext, plus the 16-byte GCM tag behind it.
const sealOverhead = 1 + 4 + 12 + 16

// ErrSealed is returned when a value cannot be opened: it was written under
// an unknown key term, was altered, or was moved to another storage path.
var ErrSealed = errors.New("seal: sealed value cannot be opened")

// Barrier encrypts values before they reach storage and decrypts them after.
// Each value is sealed with AES-256-GCM under the newest key-encryption key
// (KEK) of the key ring; the output starts with a version byte and the KEK's
// term, and the storage path is the additional authenticated data, so a
// ciphertext copied to another record does not open. Older terms stay in
// the ring so values written before a rotation remain readable.
//
// A Barrier is safe for concurrent use. Close zeroes its keys.
type Barrier struct {
	mu     sync.RWMutex
	aeads  map[uint32]cipher.AEAD
	keys   map[uint32][]byte
	active uint32
	rand   io.Reader
}

// newBarrier returns a barrier over the keys of a key ring, sealing with
// the highest term.
func newBarrier(ring *keyRing, rnd io.Reader) (*Barrier, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := &Barrier{aeads: map[uint32]cipher.AEAD{}, keys: map[uint32][]byte{}, rand: rnd}
	for _, k := range ring.Keys {
		if err := b.install(k.Term, k.Key); err != nil {
			b.Close()
			return nil, err
		}
	}
	if len(b.aeads) == 0 {
		return nil, errors.New("seal: key ring is empty")
	}
	return b, nil
}

// install adds a KEK to the barrier (taking a copy of key) and makes it
// active when its term is the highest.
func (b *Barrier) install(term uint32, key []byte) error {
	if len(key) != 32 {
		return fmt.Errorf("seal: key-encryption key of term %d has %d bytes, want 32", term, len(key))
	}
	own := append([]byte(nil), key...)
	blk, err := aes.NewCipher(own)
	if err != nil {
		return err
	}
	gcm, err := cipher.NewGCM(blk)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.aeads[term] = gcm
	b.keys[term] = own
	if term >= b.active {
		b.active = term
	}
	return nil
}

// Seal encrypts plain for the storage path (table and key), under the
// active KEK.
func (b *Barrier) Seal(path string, plain []byte) ([]byte, error) {
	b.mu.RLock()
	term, gcm := b.active, b.aeads[b.active]
	b.mu.RUnlock()
	if gcm == nil {
		return nil, errors.New("seal: barrier is closed")
	}
	out := make([]byte, 5+12, sealOverhead+len(plain))
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:5], term)
	if _, err := io.ReadFull(b.rand, out[5:17]); err != nil {
		return nil, err
	}
	return gcm.Seal(out, out[5:17], plain, aad(path, out[:5])), nil
}

// Open decrypts a value sealed for path. It fails with ErrSealed when the
// value was altered, sealed for another path, or under an unknown term.
func (b *Barrier) Open(path string, sealed []byte) ([]byte, error) {
	if len(sealed) < sealOverhead || sealed[0] != sealVersion {
		return nil, ErrSealed
	}
	term := binary.BigEndian.Uint32(sealed[1:5])
	b.mu.RLock()
	gcm := b.aeads[term]
	b.mu.RUnlock()
	if gcm == nil {
		return nil, ErrSealed
	}
	plain, err := gcm.Open(nil, sealed[5:17], sealed[17:], aad(path, sealed[:5]))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// ActiveTerm is the term of the KEK new values are sealed with.
func (b *Barrier) ActiveTerm() uint32 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.active
}

// Close zeroes the barrier's keys; later Seal calls fail and Open calls
// return ErrSealed.
func (b *Barrier) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for t, k := range b.keys {
		clear(k)
		delete(b.keys, t)
	}
	clear(b.aeads)
}

// aad binds a ciphertext to its header and storage path.
func aad(path string, header []byte) []byte {
	a := make([]byte, 0, len(header)+len(path))
	a = append(a, header...)
	return append(a, path...)
}
