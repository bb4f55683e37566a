package armexpr

import (
	"net/netip"
	"strings"
)

func init() {
	register("ipRangeContains", 2, 2, fnIPRangeContains)
}

// ipSpan is an inclusive range of addresses of one family.
type ipSpan struct{ lo, hi netip.Addr }

// parseIPSpan reads an address, a CIDR prefix or "first-last".
func parseIPSpan(s string) (ipSpan, bool) {
	s = strings.TrimSpace(s)
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
		b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || a.Is4() != b.Is4() || b.Less(a) {
			return ipSpan{}, false
		}
		return ipSpan{a.Unmap(), b.Unmap()}, true
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return ipSpan{}, false
		}
		p = p.Masked()
		lo := p.Addr()
		hi := lo.AsSlice()
		for bit := p.Bits(); bit < len(hi)*8; bit++ {
			hi[bit/8] |= 0x80 >> (bit % 8)
		}
		h, _ := netip.AddrFromSlice(hi)
		return ipSpan{lo, h}, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ipSpan{}, false
	}
	return ipSpan{a, a}, true
}

// fnIPRangeContains reports whether every address of the target (an
// address, prefix or range) lies in the range. Unparseable input gives
// false, as the conformance cases expect; an empty range or a mix of IPv4
// and IPv6 is an error, as Azure documents.
func fnIPRangeContains(_ *EvalContext, a []any) (any, error) {
	r, t, err := twoStrings("ipRangeContains", a)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(r) == "" {
		return nil, errorf(CodeInvalidArgument, "the template function 'ipRangeContains' got an empty range")
	}
	rs, ok1 := parseIPSpan(r)
	ts, ok2 := parseIPSpan(t)
	if !ok1 || !ok2 {
		return false, nil
	}
	if rs.lo.Is4() != ts.lo.Is4() {
		return nil, errorf(CodeInvalidArgument, "the template function 'ipRangeContains' cannot compare an IPv4 and an IPv6 value (%q, %q)", r, t)
	}
	return rs.lo.Compare(ts.lo) <= 0 && ts.hi.Compare(rs.hi) <= 0, nil
}
