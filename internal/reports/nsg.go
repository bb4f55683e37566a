package reports

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Rule is one NSG security rule, normalized: plural and singular fields
// merged, names as Azure spells them.
type Rule struct {
	Name                string
	Priority            int
	Direction           string // Inbound or Outbound
	Access              string // Allow or Deny
	Protocol            string // Tcp, Udp, Icmp, Esp, Ah or *
	Sources, SrcPorts   []string
	Destinations, Ports []string
	Default             bool
}

// NSG is a network security group's rules, custom then default.
type NSG struct {
	ID    string
	Rules []Rule
}

// defaultInbound are the default inbound rules every NSG has.
var defaultInbound = []Rule{
	{Name: "AllowVnetInBound", Priority: 65000, Direction: "Inbound", Access: "Allow", Protocol: "*",
		Sources: []string{"VirtualNetwork"}, SrcPorts: []string{"*"}, Destinations: []string{"VirtualNetwork"}, Ports: []string{"*"}, Default: true},
	{Name: "AllowAzureLoadBalancerInBound", Priority: 65001, Direction: "Inbound", Access: "Allow", Protocol: "*",
		Sources: []string{"AzureLoadBalancer"}, SrcPorts: []string{"*"}, Destinations: []string{"*"}, Ports: []string{"*"}, Default: true},
	{Name: "DenyAllInBound", Priority: 65500, Direction: "Inbound", Access: "Deny", Protocol: "*",
		Sources: []string{"*"}, SrcPorts: []string{"*"}, Destinations: []string{"*"}, Ports: []string{"*"}, Default: true},
}

// ParseNSG reads a Microsoft.Network/networkSecurityGroups document. The
// default rules are Azure's whether or not the document lists them.
func ParseNSG(doc map[string]any) (*NSG, error) {
	id, _ := doc["id"].(string)
	props, _ := doc["properties"].(map[string]any)
	n := &NSG{ID: id}
	rules, _ := props["securityRules"].([]any)
	for i, r := range rules {
		m, _ := r.(map[string]any)
		rule, err := parseRule(m)
		if err != nil {
			return nil, fmt.Errorf("%s: securityRules[%d]: %w", id, i, err)
		}
		n.Rules = append(n.Rules, rule)
	}
	n.Rules = append(n.Rules, defaultInbound...)
	sort.SliceStable(n.Rules, func(i, j int) bool { return n.Rules[i].Priority < n.Rules[j].Priority })
	return n, nil
}

func parseRule(m map[string]any) (Rule, error) {
	name, _ := m["name"].(string)
	p, _ := m["properties"].(map[string]any)
	if p == nil {
		p = m // rules inlined without properties (some exports)
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	list := func(one, many string) []string {
		var out []string
		if s := str(one); s != "" {
			out = append(out, s)
		}
		if l, ok := p[many].([]any); ok {
			for _, v := range l {
				if s, ok := v.(string); ok && s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	r := Rule{Name: name, Direction: str("direction"), Access: str("access"), Protocol: str("protocol"),
		Sources: list("sourceAddressPrefix", "sourceAddressPrefixes"), SrcPorts: list("sourcePortRange", "sourcePortRanges"),
		Destinations: list("destinationAddressPrefix", "destinationAddressPrefixes"), Ports: list("destinationPortRange", "destinationPortRanges")}
	switch v := p["priority"].(type) {
	case float64:
		r.Priority = int(v)
	case int:
		r.Priority = v
	case int64:
		r.Priority = int(v)
	case json.Number:
		n, _ := v.Int64()
		r.Priority = int(n)
	case string:
		r.Priority, _ = strconv.Atoi(v)
	}
	if r.Priority < 100 || r.Priority > 4096 {
		return r, fmt.Errorf("rule %q: priority %d is outside 100-4096", name, r.Priority)
	}
	if !strings.EqualFold(r.Direction, "Inbound") && !strings.EqualFold(r.Direction, "Outbound") {
		return r, fmt.Errorf("rule %q: direction %q is not Inbound or Outbound", name, r.Direction)
	}
	if !strings.EqualFold(r.Access, "Allow") && !strings.EqualFold(r.Access, "Deny") {
		return r, fmt.Errorf("rule %q: access %q is not Allow or Deny", name, r.Access)
	}
	if len(r.Sources) == 0 {
		r.Sources = []string{"*"}
	}
	if len(r.Ports) == 0 {
		r.Ports = []string{"*"}
	}
	for _, pr := range r.Ports {
		if _, err := parsePorts(pr); err != nil {
			return r, fmt.Errorf("rule %q: %w", name, err)
		}
	}
	return r, nil
}

// span is an inclusive port range.
type span struct{ lo, hi int }

func parsePorts(s string) (span, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return span{0, 65535}, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi := lo
	var err2 error
	if isRange {
		hi, err2 = strconv.Atoi(strings.TrimSpace(b))
	}
	if err1 != nil || err2 != nil || lo < 0 || hi > 65535 || lo > hi {
		return span{}, fmt.Errorf("port range %q is not a port, a range lo-hi or *", s)
	}
	return span{lo, hi}, nil
}

// Ports is a set of ports, as sorted disjoint spans.
type Ports []span

func (p Ports) add(s span) Ports {
	out := append(slices.Clone(p), s)
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	merged := out[:0]
	for _, x := range out {
		if n := len(merged); n > 0 && x.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, x.hi)
			continue
		}
		merged = append(merged, x)
	}
	return merged
}

func (p Ports) minus(s span) Ports {
	var out Ports
	for _, x := range p {
		if x.hi < s.lo || x.lo > s.hi {
			out = append(out, x)
			continue
		}
		if x.lo < s.lo {
			out = append(out, span{x.lo, s.lo - 1})
		}
		if x.hi > s.hi {
			out = append(out, span{s.hi + 1, x.hi})
		}
	}
	return out
}

func (p Ports) intersect(q Ports) Ports {
	var out Ports
	for _, a := range p {
		for _, b := range q {
			lo, hi := max(a.lo, b.lo), min(a.hi, b.hi)
			if lo <= hi {
				out = append(out, span{lo, hi})
			}
		}
	}
	return out
}

func (p Ports) contains(s span) bool {
	for _, x := range p {
		if x.lo <= s.lo && s.hi <= x.hi {
			return true
		}
	}
	return false
}

// String is the set as Azure writes port ranges: "22,80,8000-8080".
func (p Ports) String() string {
	var parts []string
	for _, x := range p {
		if x.lo == 0 && x.hi == 65535 {
			parts = append(parts, "*")
		} else if x.lo == x.hi {
			parts = append(parts, strconv.Itoa(x.lo))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", x.lo, x.hi))
		}
	}
	return strings.Join(parts, ",")
}

var allPorts = Ports{{0, 65535}}

// protocols are the ones a port-based exposure is computed for.
var protocols = []string{"Tcp", "Udp"}

func (r Rule) appliesTo(proto string) bool {
	return r.Protocol == "*" || strings.EqualFold(r.Protocol, proto)
}

// fromInternet says whether a rule's sources include traffic from the
// Internet: *, Any, the Internet service tag, or an address range with
// public addresses.
func (r Rule) fromInternet() bool {
	for _, s := range r.Sources {
		if internetPrefix(s) {
			return true
		}
	}
	return false
}

func internetPrefix(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "*", "any", "internet", "0.0.0.0/0", "::/0":
		return true
	}
	if pfx, err := netip.ParsePrefix(s); err == nil {
		a := pfx.Masked().Addr()
		// A prefix holds public addresses unless it lies within the
		// private, loopback, link-local or shared ranges.
		for _, private := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10"} {
			pp := netip.MustParsePrefix(private)
			if pp.Contains(a) && pfx.Bits() >= pp.Bits() {
				return false
			}
		}
		return true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast()
	}
	return false // other service tags (VirtualNetwork, AzureLoadBalancer, ...)
}

// Verdict is what one NSG decides for inbound Internet traffic.
type Verdict struct {
	// Allowed ports from the Internet, by protocol (Tcp, Udp).
	Allowed map[string]Ports
	// By names, per protocol and port span allowed, the rule that allowed
	// it (for explanations).
	By map[string][]Decision
}

// Decision is a port span a rule allowed.
type Decision struct {
	Ports Ports
	Rule  string
}

// InboundFromInternet evaluates an NSG's inbound rules in priority order
// for traffic from the Internet, per protocol: the first rule matching a
// port decides it. A nil NSG allows everything (no NSG at that level).
func InboundFromInternet(n *NSG) Verdict {
	v := Verdict{Allowed: map[string]Ports{}, By: map[string][]Decision{}}
	for _, proto := range protocols {
		if n == nil {
			v.Allowed[proto] = allPorts
			continue
		}
		undecided := allPorts
		var allowed Ports
		for _, r := range n.Rules {
			if !strings.EqualFold(r.Direction, "Inbound") || !r.appliesTo(proto) || !r.fromInternet() || len(undecided) == 0 {
				continue
			}
			var decided Ports
			for _, pr := range r.Ports {
				s, _ := parsePorts(pr)
				for _, u := range undecided.intersect(Ports{s}) {
					decided = decided.add(u)
				}
			}
			for _, d := range decided {
				undecided = undecided.minus(d)
			}
			if len(decided) > 0 && strings.EqualFold(r.Access, "Allow") {
				for _, d := range decided {
					allowed = allowed.add(d)
				}
				v.By[proto] = append(v.By[proto], Decision{Ports: decided, Rule: r.Name})
			}
		}
		v.Allowed[proto] = allowed
	}
	return v
}

// Shadowed lists the rules of an NSG that can never decide any traffic,
// because rules of higher priority (lower number) in the same direction
// already decide everything they match: same or wider protocol, sources,
// destinations and ports. It returns, per shadowed rule, the rules that
// shadow it.
func Shadowed(n *NSG) map[string][]string {
	out := map[string][]string{}
	for i, r := range n.Rules {
		if r.Default {
			continue
		}
		// The ports r matches, per protocol, still undecided after the
		// rules above it that cover its sources and destinations.
		remaining := false
		var by []string
		for _, proto := range []string{"Tcp", "Udp", "Icmp", "Esp", "Ah"} {
			if !r.appliesTo(proto) {
				continue
			}
			var left Ports
			for _, pr := range r.Ports {
				s, _ := parsePorts(pr)
				left = left.add(s)
			}
			for _, above := range n.Rules[:i] {
				if !strings.EqualFold(above.Direction, r.Direction) || !above.appliesTo(proto) ||
					!covers(above.Sources, r.Sources) || !covers(above.Destinations, r.Destinations) || !covers(above.SrcPorts, r.SrcPorts) {
					continue
				}
				if len(left) == 0 {
					break
				}
				before := left.String()
				for _, pr := range above.Ports {
					s, _ := parsePorts(pr)
					left = left.minus(s)
				}
				if left.String() != before && !slices.Contains(by, above.Name) {
					by = append(by, above.Name)
				}
			}
			if len(left) > 0 {
				remaining = true
				break
			}
		}
		if !remaining && len(by) > 0 {
			out[r.Name] = by
		}
	}
	return out
}

// covers says whether the prefixes a include every prefix of b: a wildcard
// covers all, equal strings cover, and an address range covers the ranges
// inside it.
func covers(a, b []string) bool {
	if len(b) == 0 {
		b = []string{"*"}
	}
	if len(a) == 0 {
		a = []string{"*"}
	}
	for _, x := range a {
		if x == "*" || strings.EqualFold(x, "any") {
			return true
		}
	}
	for _, y := range b {
		ok := false
		for _, x := range a {
			if strings.EqualFold(x, y) {
				ok = true
				break
			}
			px, err1 := netip.ParsePrefix(x)
			py, err2 := netip.ParsePrefix(y)
			if err1 == nil && err2 == nil && px.Bits() <= py.Bits() && px.Contains(py.Addr()) {
				ok = true
				break
			}
			if err1 == nil {
				if ay, err := netip.ParseAddr(y); err == nil && px.Contains(ay) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
