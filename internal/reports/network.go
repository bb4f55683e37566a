package reports

import (
	"fmt"
	"sort"
	"strings"
)

// Severities of findings.
const (
	High   = "high"
	Medium = "medium"
	Low    = "low"
)

// Finding is one result of a report.
type Finding struct {
	Report     string `json:"report"`
	Kind       string `json:"kind"`
	Severity   string `json:"severity"`
	ResourceID string `json:"resourceId"`
	Message    string `json:"message"`
	// Details carry the report's own fields (ports, rules, ...).
	Details map[string]any `json:"details,omitempty"`
}

// Resource types the network report reads.
const (
	typeNSG     = "microsoft.network/networksecuritygroups"
	typeNIC     = "microsoft.network/networkinterfaces"
	typeVNet    = "microsoft.network/virtualnetworks"
	typeSubnet  = "microsoft.network/virtualnetworks/subnets"
	managedPort = "22,3389"
)

// Network evaluates the NSGs of an estate: for every network interface,
// the TCP and UDP ports it accepts from the Internet once its subnet's NSG
// and its own are combined (both must allow; a level without an NSG allows
// everything), and for every NSG the rules that can never match because
// higher-priority rules decide all their traffic. Unknown references (an
// NSG or subnet the estate does not hold) are findings, not guesses.
func Network(resources []map[string]any) ([]Finding, error) {
	nsgs := map[string]*NSG{}
	subnetNSG := map[string]string{} // subnet ID -> NSG ID ("" = none)
	var nics []map[string]any
	for _, r := range resources {
		id, _ := r["id"].(string)
		typ, _ := r["type"].(string)
		switch strings.ToLower(typ) {
		case typeNSG:
			n, err := ParseNSG(r)
			if err != nil {
				return nil, err
			}
			nsgs[strings.ToLower(id)] = n
		case typeNIC:
			nics = append(nics, r)
		case typeVNet:
			props, _ := r["properties"].(map[string]any)
			subnets, _ := props["subnets"].([]any)
			for _, s := range subnets {
				m, _ := s.(map[string]any)
				sid, _ := m["id"].(string)
				if sid == "" {
					name, _ := m["name"].(string)
					sid = id + "/subnets/" + name
				}
				subnetNSG[strings.ToLower(sid)] = refID(m, "networkSecurityGroup")
			}
		case typeSubnet:
			subnetNSG[strings.ToLower(id)] = refID(r, "networkSecurityGroup")
		}
	}
	var out []Finding
	lookup := func(id string) (*NSG, bool) {
		if id == "" {
			return nil, true
		}
		n, ok := nsgs[strings.ToLower(id)]
		return n, ok
	}
	for _, nic := range nics {
		id, _ := nic["id"].(string)
		props, _ := nic["properties"].(map[string]any)
		nicNSGID := refID(nic, "networkSecurityGroup")
		nicNSG, ok := lookup(nicNSGID)
		if !ok {
			out = append(out, missing(id, "network security group", nicNSGID))
			continue
		}
		subnetID, public := "", false
		if cfgs, ok := props["ipConfigurations"].([]any); ok {
			for _, c := range cfgs {
				m, _ := c.(map[string]any)
				if s := refID(m, "subnet"); s != "" && subnetID == "" {
					subnetID = s
				}
				if refID(m, "publicIPAddress") != "" {
					public = true
				}
			}
		}
		var subNSG *NSG
		if subnetID != "" {
			sn, known := subnetNSG[strings.ToLower(subnetID)]
			if !known {
				out = append(out, missing(id, "subnet", subnetID))
				continue
			}
			if subNSG, ok = lookup(sn); !ok {
				out = append(out, missing(id, "network security group", sn))
				continue
			}
		}
		sv, nv := InboundFromInternet(subNSG), InboundFromInternet(nicNSG)
		exposed := map[string]string{}
		sensitive := false
		for _, proto := range protocols {
			p := sv.Allowed[proto].intersect(nv.Allowed[proto])
			if len(p) == 0 {
				continue
			}
			exposed[strings.ToLower(proto)] = p.String()
			for _, port := range []int{22, 3389} {
				if proto == "Tcp" && p.contains(span{port, port}) {
					sensitive = true
				}
			}
		}
		if len(exposed) == 0 {
			continue
		}
		sev := Medium
		if sensitive {
			sev = High
		}
		if !public {
			sev = Low
		}
		vm := refID(nic, "virtualMachine")
		var parts []string
		for _, proto := range []string{"tcp", "udp"} {
			if p, ok := exposed[proto]; ok {
				parts = append(parts, proto+"/"+p)
			}
		}
		msg := fmt.Sprintf("accepts traffic from the Internet on %s", strings.Join(parts, " "))
		if !public {
			msg += " (no public IP on the interface: reachable through a load balancer or a future public IP)"
		}
		details := map[string]any{"ports": exposed, "publicIp": public, "subnet": subnetID,
			"subnetNsg": nsgName(subNSG), "nicNsg": nsgName(nicNSG), "allowedBy": allowedBy(sv, nv)}
		if vm != "" {
			details["virtualMachine"] = vm
		}
		out = append(out, Finding{Report: "network", Kind: "InternetExposure", Severity: sev, ResourceID: id, Message: msg, Details: details})
	}
	ids := make([]string, 0, len(nsgs))
	for k := range nsgs {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	for _, k := range ids {
		n := nsgs[k]
		sh := Shadowed(n)
		names := make([]string, 0, len(sh))
		for name := range sh {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, Finding{Report: "network", Kind: "ShadowedRule", Severity: Low, ResourceID: n.ID + "/securityRules/" + name,
				Message: fmt.Sprintf("rule %s never matches: higher-priority rules (%s) decide all its traffic first", name, strings.Join(sh[name], ", ")),
				Details: map[string]any{"rule": name, "shadowedBy": sh[name]}})
		}
	}
	return out, nil
}

func allowedBy(vs ...Verdict) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		for _, proto := range protocols {
			for _, d := range v.By[proto] {
				if !seen[d.Rule] {
					seen[d.Rule] = true
					out = append(out, d.Rule)
				}
			}
		}
	}
	return out
}

func nsgName(n *NSG) string {
	if n == nil {
		return ""
	}
	return n.ID
}

func missing(id, what, ref string) Finding {
	return Finding{Report: "network", Kind: "MissingReference", Severity: Medium, ResourceID: id,
		Message: fmt.Sprintf("references %s %s, which the estate does not hold: its exposure cannot be evaluated", what, ref),
		Details: map[string]any{"reference": ref}}
}

// refID reads properties.{name}.id of a resource or a sub-resource.
func refID(m map[string]any, name string) string {
	props, _ := m["properties"].(map[string]any)
	ref, _ := props[name].(map[string]any)
	id, _ := ref["id"].(string)
	return id
}
