package kql

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
)

// IPv4 and IPv6 functions. An address may carry an IP-prefix ("/24"); a
// comparison uses the smallest of the prefixes written on either address
// and the prefix argument. Unparsable input gives null (empty for the
// format functions), as Kusto documents.

// ipv4Of parses "a.b.c.d[/p]" into its 32-bit value and prefix.
func ipv4Of(s string) (uint32, int, bool) {
	s = strings.TrimSpace(s)
	prefix := 32
	if i := strings.IndexByte(s, '/'); i >= 0 {
		p, err := strconv.Atoi(s[i+1:])
		if err != nil || p < 0 || p > 32 {
			return 0, 0, false
		}
		prefix, s = p, s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, 0, false
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), prefix, true
}

func mask4(x uint32, prefix int) uint32 {
	if prefix <= 0 {
		return 0
	}
	if prefix >= 32 {
		return x
	}
	return x &^ (1<<(32-prefix) - 1)
}

func format4(x uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", x>>24, x>>16&255, x>>8&255, x&255)
}

// ipv4Value reads a string address or, for format_ipv4, a long.
func ipv4Value(v Value) (uint32, int, bool) {
	s := scalarOf(v)
	if isIntegral(s.T) && !s.IsNull() {
		if s.i < 0 || s.i > 0xffffffff {
			return 0, 0, false
		}
		return uint32(s.i), 32, true
	}
	if s.T != TypeString {
		return 0, 0, false
	}
	return ipv4Of(s.s)
}

// prefixArg reads the optional prefix argument at i (max when absent);
// ok is false when it is out of [0, max].
func prefixArg(v []Value, i, max int) (int, bool) {
	if i >= len(v) {
		return max, true
	}
	p, ok := intArg(v, i, int64(max))
	if !ok || p < 0 || p > int64(max) {
		return 0, false
	}
	return int(p), true
}

// ipv6Of parses an IPv6 (or IPv4, mapped) address with an optional prefix;
// the prefix of an IPv4 address counts its 32 bits.
func ipv6Of(s string) (*big.Int, int, bool) {
	s = strings.TrimSpace(s)
	prefix := 128
	slash := strings.IndexByte(s, '/')
	var ptext string
	if slash >= 0 {
		ptext, s = s[slash+1:], s[:slash]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, 0, false
	}
	if ptext != "" {
		p, err := strconv.Atoi(ptext)
		if err != nil || p < 0 {
			return nil, 0, false
		}
		if a.Is4() {
			p += 96
		}
		if p > 128 {
			return nil, 0, false
		}
		prefix = p
	} else if slash >= 0 {
		return nil, 0, false
	}
	b := a.As16()
	return new(big.Int).SetBytes(b[:]), prefix, true
}

func mask6(x *big.Int, prefix int) *big.Int {
	m := new(big.Int).Lsh(big.NewInt(1), 128)
	m.Sub(m, big.NewInt(1))
	host := new(big.Int).Lsh(big.NewInt(1), uint(128-prefix))
	host.Sub(host, big.NewInt(1))
	m.AndNot(m, host)
	return new(big.Int).And(x, m)
}

// format6 writes the canonical, fully expanded form Kusto's parse_ipv6
// returns (eight groups of four hex digits).
func format6(x *big.Int) string {
	var b [16]byte
	x.FillBytes(b[:])
	parts := make([]string, 8)
	for i := range parts {
		parts[i] = fmt.Sprintf("%02x%02x", b[2*i], b[2*i+1])
	}
	return strings.Join(parts, ":")
}

func init() {
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value {
		x, p, ok := ipv4Of(str(v, 0))
		if !ok {
			return Null(TypeLong)
		}
		return Long(int64(mask4(x, p)))
	}), "parse_ipv4")
	register(fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		x, p, ok := ipv4Of(str(v, 0))
		q, qok := prefixArg(v, 1, 32)
		if !ok || !qok {
			return Null(TypeLong)
		}
		return Long(int64(mask4(x, min(p, q))))
	}), "parse_ipv4_mask")
	cmp4 := func(v []Value) (int, bool) {
		a, pa, ok1 := ipv4Of(str(v, 0))
		b, pb, ok2 := ipv4Of(str(v, 1))
		q, ok3 := prefixArg(v, 2, 32)
		if !ok1 || !ok2 || !ok3 {
			return 0, false
		}
		p := min(pa, pb, q)
		a, b = mask4(a, p), mask4(b, p)
		switch {
		case a < b:
			return -1, true
		case a > b:
			return 1, true
		}
		return 0, true
	}
	register(fixed(2, 3, ret(TypeLong), func(_ Type, v []Value) Value {
		c, ok := cmp4(v)
		if !ok {
			return Null(TypeLong)
		}
		return Long(int64(c))
	}), "ipv4_compare")
	register(fixed(2, 3, ret(TypeBool), func(_ Type, v []Value) Value {
		c, ok := cmp4(v)
		if !ok {
			return Null(TypeBool)
		}
		return Bool(c == 0)
	}), "ipv4_is_match")
	inRange4 := func(ip, rng string) (bool, bool) {
		a, _, ok1 := ipv4Of(ip)
		b, pb, ok2 := ipv4Of(rng)
		if !ok1 || !ok2 {
			return false, false
		}
		return mask4(a, pb) == mask4(b, pb), true
	}
	register(fixed(2, 2, ret(TypeBool), func(_ Type, v []Value) Value {
		in, ok := inRange4(str(v, 0), str(v, 1))
		if !ok {
			return Null(TypeBool)
		}
		return Bool(in)
	}), "ipv4_is_in_range")
	register(fixed(2, -1, ret(TypeBool), func(_ Type, v []Value) Value {
		ranges := rangeList(v[1:])
		for _, r := range ranges {
			if in, ok := inRange4(str(v, 0), r); !ok {
				return Null(TypeBool)
			} else if in {
				return Bool(true)
			}
		}
		return Bool(false)
	}), "ipv4_is_in_any_range")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value {
		x, p, ok := ipv4Of(str(v, 0))
		if !ok {
			return Null(TypeBool)
		}
		for _, r := range []struct {
			net  uint32
			bits int
		}{{10 << 24, 8}, {172<<24 | 16<<16, 12}, {192<<24 | 168<<16, 16}} {
			if p >= r.bits && mask4(x, r.bits) == r.net {
				return Bool(true)
			}
		}
		return Bool(false)
	}), "ipv4_is_private")
	register(fixed(1, 1, ret(TypeInt), func(_ Type, v []Value) Value {
		_, p, ok := ipv4Of(str(v, 0))
		if !ok {
			return Null(TypeInt)
		}
		return Int(int64(p))
	}), "ipv4_netmask_suffix")
	register(fixed(1, 2, ret(TypeString), func(_ Type, v []Value) Value {
		x, p, ok := ipv4Value(v[0])
		q, qok := prefixArg(v, 1, 32)
		if !ok || !qok {
			return String("")
		}
		return String(format4(mask4(x, min(p, q))))
	}), "format_ipv4")
	register(fixed(1, 2, ret(TypeString), func(_ Type, v []Value) Value {
		x, p, ok := ipv4Value(v[0])
		q, qok := prefixArg(v, 1, 32)
		if !ok || !qok {
			return String("")
		}
		p = min(p, q)
		return String(fmt.Sprintf("%s/%d", format4(mask4(x, p)), p))
	}), "format_ipv4_mask")

	register(fixed(1, 1, ret(TypeString), func(_ Type, v []Value) Value {
		x, p, ok := ipv6Of(str(v, 0))
		if !ok {
			return Null(TypeString)
		}
		return String(format6(mask6(x, p)))
	}), "parse_ipv6")
	register(fixed(2, 2, ret(TypeString), func(_ Type, v []Value) Value {
		x, p, ok := ipv6Of(str(v, 0))
		q, qok := prefixArg(v, 1, 128)
		if !ok || !qok {
			return Null(TypeString)
		}
		if strings.Contains(str(v, 0), ".") && !strings.Contains(str(v, 0), ":") {
			q = min(q+96, 128)
		}
		return String(format6(mask6(x, min(p, q))))
	}), "parse_ipv6_mask")
	cmp6 := func(v []Value) (int, bool) {
		a, pa, ok1 := ipv6Of(str(v, 0))
		b, pb, ok2 := ipv6Of(str(v, 1))
		q, ok3 := prefixArg(v, 2, 128)
		if !ok1 || !ok2 || !ok3 {
			return 0, false
		}
		p := min(pa, pb, q)
		return mask6(a, p).Cmp(mask6(b, p)), true
	}
	register(fixed(2, 3, ret(TypeLong), func(_ Type, v []Value) Value {
		c, ok := cmp6(v)
		if !ok {
			return Null(TypeLong)
		}
		return Long(int64(c))
	}), "ipv6_compare")
	register(fixed(2, 3, ret(TypeBool), func(_ Type, v []Value) Value {
		c, ok := cmp6(v)
		if !ok {
			return Null(TypeBool)
		}
		return Bool(c == 0)
	}), "ipv6_is_match")
	inRange6 := func(ip, rng string) (bool, bool) {
		a, _, ok1 := ipv6Of(ip)
		b, pb, ok2 := ipv6Of(rng)
		if !ok1 || !ok2 {
			return false, false
		}
		return mask6(a, pb).Cmp(mask6(b, pb)) == 0, true
	}
	register(fixed(2, 2, ret(TypeBool), func(_ Type, v []Value) Value {
		in, ok := inRange6(str(v, 0), str(v, 1))
		if !ok {
			return Null(TypeBool)
		}
		return Bool(in)
	}), "ipv6_is_in_range")
	register(fixed(2, -1, ret(TypeBool), func(_ Type, v []Value) Value {
		for _, r := range rangeList(v[1:]) {
			if in, ok := inRange6(str(v, 0), r); !ok {
				return Null(TypeBool)
			} else if in {
				return Bool(true)
			}
		}
		return Bool(false)
	}), "ipv6_is_in_any_range")
}

// rangeList flattens the ranges of the *_in_any_range functions: strings,
// or one dynamic array of strings.
func rangeList(v []Value) []string {
	var out []string
	for _, x := range v {
		if a, ok := seriesNums(x); ok {
			for _, e := range a {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			continue
		}
		out = append(out, stringOf(x))
	}
	return out
}
