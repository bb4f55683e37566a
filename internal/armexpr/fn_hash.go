package armexpr

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strings"
)

// armGUIDNamespace is the name-space UUID under which ARM's guid() builds
// version-5 UUIDs (see docs/decisions/armexpr.md for the evidence).
var armGUIDNamespace = [16]byte{0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30}

func init() {
	register("guid", 1, -1, func(_ *EvalContext, a []any) (any, error) {
		name, err := hyphenJoin("guid", a)
		if err != nil {
			return nil, err
		}
		return uuidV5(armGUIDNamespace, name), nil
	})
	register("uniqueString", 1, -1, func(_ *EvalContext, a []any) (any, error) {
		name, err := hyphenJoin("uniqueString", a)
		if err != nil {
			return nil, err
		}
		return base32Hash(murmur64([]byte(name))), nil
	})
}

// hyphenJoin joins string arguments with "-", the input of guid and
// uniqueString; ARM accepts only strings here.
func hyphenJoin(fn string, a []any) (string, error) {
	parts := make([]string, len(a))
	for i := range a {
		s, err := argString(fn, a, i)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return strings.Join(parts, "-"), nil
}

// uuidV5 is the RFC 4122 name-based UUID with SHA-1.
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// The 64-bit Murmur variant ARM's uniqueString uses: two 32-bit lanes fed
// eight bytes at a time, with these multipliers and additive constants.
const (
	murC1 uint32 = 2869860233
	murC2 uint32 = 597399067
	murA1 uint32 = 1444728091
	murA2 uint32 = 197830471
	murF1 uint32 = 2246822507
	murF2 uint32 = 3266489909
)

func murmur64(data []byte) uint64 {
	var h1, h2 uint32
	n := len(data)
	i := 0
	for ; i+8 <= n; i += 8 {
		k1 := binary.LittleEndian.Uint32(data[i:])
		k2 := binary.LittleEndian.Uint32(data[i+4:])
		h1 ^= bits.RotateLeft32(k1*murC2, 15) * murC1
		h1 = (bits.RotateLeft32(h1, 19)+h2)*5 + murA1
		h2 ^= bits.RotateLeft32(k2*murC1, 17) * murC2
		h2 = (bits.RotateLeft32(h2, 13)+h1)*5 + murA2
	}
	if tail := n - i; tail > 0 {
		h1 ^= bits.RotateLeft32(littleEndian(data[i:min(n, i+4)])*murC2, 15) * murC1
		if tail > 4 {
			h2 ^= bits.RotateLeft32(littleEndian(data[i+4:n])*murC1, 17) * murC2
		}
	}
	h1 ^= uint32(n)
	h2 ^= uint32(n)
	h1 += h2
	h2 += h1
	h1, h2 = fmix32(h1), fmix32(h2)
	h1 += h2
	h2 += h1
	return uint64(h2)<<32 | uint64(h1)
}

// littleEndian reads up to four bytes as a little-endian integer.
func littleEndian(b []byte) uint32 {
	var v uint32
	for j := len(b) - 1; j >= 0; j-- {
		v = v<<8 | uint32(b[j])
	}
	return v
}

func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= murF1
	h ^= h >> 13
	h *= murF2
	return h ^ h>>16
}

// base32Hash writes h five bits at a time from the top as 13 characters
// of the lower-case RFC 4648 alphabet; the last carries the low four bits.
func base32Hash(h uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var b [13]byte
	for i := range b {
		b[i] = alphabet[h>>59]
		h <<= 5
	}
	return string(b[:])
}
