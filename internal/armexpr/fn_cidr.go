package armexpr

import (
	"math/big"
	"net/netip"
)

func init() {
	register("parseCidr", 1, 1, fnParseCIDR)
	register("cidrSubnet", 3, 3, fnCIDRSubnet)
	register("cidrHost", 2, 2, fnCIDRHost)
}

// prefixArg parses a CIDR argument; the address must be the network
// address, as ARM requires.
func prefixArg(fn string, a []any, i int) (netip.Prefix, error) {
	s, err := argString(fn, a, i)
	if err != nil {
		return netip.Prefix{}, err
	}
	p, perr := netip.ParsePrefix(s)
	if perr != nil {
		return netip.Prefix{}, errorf(CodeInvalidArgument, "the template function '%s' got %q, which is not a CIDR range", fn, s)
	}
	return p.Masked(), nil
}

// addrInt and intAddr convert between addresses and integers.
func addrInt(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

func intAddr(n *big.Int, v4 bool) netip.Addr {
	size := 16
	if v4 {
		size = 4
	}
	b := n.FillBytes(make([]byte, size))
	a, _ := netip.AddrFromSlice(b)
	return a
}

// span returns the first and last address of p as integers.
func span(p netip.Prefix) (first, last *big.Int) {
	bits := p.Addr().BitLen()
	first = addrInt(p.Addr())
	size := new(big.Int).Lsh(big.NewInt(1), uint(bits-p.Bits()))
	last = new(big.Int).Add(first, size)
	return first, last.Sub(last, big.NewInt(1))
}

// usable returns the first and last usable host addresses: IPv4 leaves
// out the network and broadcast addresses except in /31 and /32 (RFC
// 3021); IPv6 has no broadcast address and leaves out nothing.
func usable(p netip.Prefix) (first, last *big.Int) {
	first, last = span(p)
	if p.Addr().Is4() && p.Bits() < 31 {
		first = new(big.Int).Add(first, big.NewInt(1))
		last = new(big.Int).Sub(last, big.NewInt(1))
	}
	return first, last
}

// fnParseCIDR describes a CIDR range as ARM's parseCidr does.
func fnParseCIDR(_ *EvalContext, a []any) (any, error) {
	p, err := prefixArg("parseCidr", a, 0)
	if err != nil {
		return nil, err
	}
	v4 := p.Addr().Is4()
	mask := new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()))
	mask.Sub(mask, big.NewInt(1))
	mask.Xor(mask, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits())), big.NewInt(1)))
	_, last := span(p)
	first, lastUsable := usable(p)
	out := map[string]any{
		"network":     p.Addr().String(),
		"netmask":     intAddr(mask, v4).String(),
		"firstUsable": intAddr(first, v4).String(),
		"lastUsable":  intAddr(lastUsable, v4).String(),
		"cidr":        int64(p.Bits()),
	}
	if v4 {
		out["broadcast"] = intAddr(last, v4).String()
	}
	return out, nil
}

// fnCIDRSubnet returns the index-th subnet of length newCIDR inside a
// range.
func fnCIDRSubnet(_ *EvalContext, a []any) (any, error) {
	p, err := prefixArg("cidrSubnet", a, 0)
	if err != nil {
		return nil, err
	}
	bits, err := argInt("cidrSubnet", a, 1)
	if err != nil {
		return nil, err
	}
	idx, err := argInt("cidrSubnet", a, 2)
	if err != nil {
		return nil, err
	}
	if bits < int64(p.Bits()) || bits > int64(p.Addr().BitLen()) {
		return nil, errorf(CodeInvalidArgument, "the new prefix length %d given to 'cidrSubnet' must be between %d and %d", bits, p.Bits(), p.Addr().BitLen())
	}
	count := new(big.Int).Lsh(big.NewInt(1), uint(bits-int64(p.Bits())))
	if idx < 0 || big.NewInt(idx).Cmp(count) >= 0 {
		return nil, errorf(CodeIndexRange, "the subnet index %d given to 'cidrSubnet' is outside 0..%s", idx, new(big.Int).Sub(count, big.NewInt(1)))
	}
	first, _ := span(p)
	step := new(big.Int).Lsh(big.NewInt(1), uint(int64(p.Addr().BitLen())-bits))
	start := first.Add(first, step.Mul(step, big.NewInt(idx)))
	return netip.PrefixFrom(intAddr(start, p.Addr().Is4()), int(bits)).String(), nil
}

// fnCIDRHost returns the index-th usable host address of a range.
func fnCIDRHost(_ *EvalContext, a []any) (any, error) {
	p, err := prefixArg("cidrHost", a, 0)
	if err != nil {
		return nil, err
	}
	idx, err := argInt("cidrHost", a, 1)
	if err != nil {
		return nil, err
	}
	first, last := usable(p)
	if !p.Addr().Is4() {
		first.Add(first, big.NewInt(1)) // ARM numbers IPv6 hosts from network+1 too
	}
	host := new(big.Int).Add(first, big.NewInt(idx))
	if idx < 0 || host.Cmp(last) > 0 {
		return nil, errorf(CodeIndexRange, "the host index %d given to 'cidrHost' is outside the range %s", idx, p)
	}
	return intAddr(host, p.Addr().Is4()).String(), nil
}
