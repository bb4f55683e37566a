package reports

import (
	"encoding/json"
	"strings"
	"testing"
)

const sub = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/net/providers/Microsoft.Network/"

func rule(name string, prio int, access, proto, src, port string) map[string]any {
	return map[string]any{"name": name, "properties": map[string]any{"priority": prio, "direction": "Inbound", "access": access,
		"protocol": proto, "sourceAddressPrefix": src, "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": port}}
}

func nsg(name string, rules ...map[string]any) map[string]any {
	rs := make([]any, len(rules))
	for i, r := range rules {
		rs[i] = r
	}
	return map[string]any{"id": sub + "networkSecurityGroups/" + name, "type": "Microsoft.Network/networkSecurityGroups",
		"properties": map[string]any{"securityRules": rs}}
}

func nic(name, subnet, nsgName string, public bool) map[string]any {
	cfg := map[string]any{"properties": map[string]any{"subnet": map[string]any{"id": sub + "virtualNetworks/vnet/subnets/" + subnet}}}
	if public {
		cfg["properties"].(map[string]any)["publicIPAddress"] = map[string]any{"id": sub + "publicIPAddresses/" + name}
	}
	props := map[string]any{"ipConfigurations": []any{cfg}, "virtualMachine": map[string]any{"id": "/vm/" + name}}
	if nsgName != "" {
		props["networkSecurityGroup"] = map[string]any{"id": sub + "networkSecurityGroups/" + nsgName}
	}
	return map[string]any{"id": sub + "networkInterfaces/" + name, "type": "Microsoft.Network/networkInterfaces", "properties": props}
}

func TestNetworkExposure(t *testing.T) {
	estate := []map[string]any{
		// The subnet NSG denies RDP from anywhere and allows web and SSH.
		nsg("subnet-nsg",
			rule("deny-rdp", 100, "Deny", "*", "*", "3389"),
			rule("allow-web", 200, "Allow", "Tcp", "Internet", "443"),
			rule("allow-ssh", 210, "Allow", "Tcp", "*", "22"),
			rule("allow-rdp", 300, "Allow", "Tcp", "Internet", "3389"), // shadowed by deny-rdp
			rule("allow-dns", 310, "Allow", "Udp", "Internet", "53"),
		),
		// The NIC NSG: a higher-priority deny shadows an allow of SSH; RDP
		// and web allowed, but the subnet blocks RDP.
		nsg("nic-nsg",
			rule("deny-ssh", 100, "Deny", "Tcp", "Internet", "22"),
			rule("allow-ssh-too", 110, "Allow", "Tcp", "Internet", "22"), // shadowed by deny-ssh
			rule("allow-rdp", 120, "Allow", "Tcp", "*", "3389"),
			rule("allow-web", 130, "Allow", "Tcp", "Internet", "443-444"),
			rule("allow-office", 140, "Allow", "Tcp", "10.1.0.0/16", "8080"),
		),
		{"id": sub + "virtualNetworks/vnet", "type": "Microsoft.Network/virtualNetworks", "properties": map[string]any{"subnets": []any{
			map[string]any{"id": sub + "virtualNetworks/vnet/subnets/front", "name": "front",
				"properties": map[string]any{"networkSecurityGroup": map[string]any{"id": sub + "networkSecurityGroups/subnet-nsg"}}},
			map[string]any{"id": sub + "virtualNetworks/vnet/subnets/open", "name": "open", "properties": map[string]any{}},
		}}},
		nic("web1", "front", "nic-nsg", true),      // subnet ∩ nic: tcp 443 only
		nic("jump1", "front", "", true),            // subnet only: tcp 22,443 and udp 53
		nic("naked", "open", "", true),             // no NSG anywhere: everything
		nic("internal", "front", "nic-nsg", false), // like web1 without a public IP
		nic("lost", "front", "gone-nsg", true),
	}
	findings, err := Network(estate)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Finding{}
	for _, f := range findings {
		key := f.ResourceID[strings.LastIndexByte(f.ResourceID, '/')+1:]
		got[f.Kind+":"+key] = f
	}
	ports := func(f Finding) string {
		b, _ := json.Marshal(f.Details["ports"])
		return string(b)
	}
	for _, want := range []struct{ key, ports, severity string }{
		{"InternetExposure:web1", `{"tcp":"443"}`, Medium},
		{"InternetExposure:jump1", `{"tcp":"22,443","udp":"53"}`, High},
		{"InternetExposure:naked", `{"tcp":"*","udp":"*"}`, High},
		{"InternetExposure:internal", `{"tcp":"443"}`, Low},
	} {
		f, ok := got[want.key]
		if !ok {
			t.Errorf("no finding %s in %v", want.key, findings)
			continue
		}
		if ports(f) != want.ports || f.Severity != want.severity {
			t.Errorf("%s: ports %s severity %s, want %s %s", want.key, ports(f), f.Severity, want.ports, want.severity)
		}
	}
	if f, ok := got["MissingReference:lost"]; !ok || !strings.Contains(f.Message, "gone-nsg") {
		t.Errorf("a NIC naming an NSG the estate lacks: %+v", f)
	}
	for _, sh := range []struct{ rule, by string }{{"allow-rdp", "deny-rdp"}, {"allow-ssh-too", "deny-ssh"}} {
		found := false
		for _, f := range findings {
			if f.Kind == "ShadowedRule" && f.Details["rule"] == sh.rule && strings.Contains(f.Message, sh.by) {
				found = true
			}
		}
		if !found {
			t.Errorf("rule %s is not reported shadowed by %s: %v", sh.rule, sh.by, findings)
		}
	}
	n := 0
	for _, f := range findings {
		if f.Kind == "ShadowedRule" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d shadowed rules, want 2: %v", n, findings)
	}
}

func TestNSGRulesAreValidated(t *testing.T) {
	for _, bad := range []map[string]any{
		rule("p", 50, "Allow", "Tcp", "*", "22"),
		rule("p", 200, "Permit", "Tcp", "*", "22"),
		rule("p", 200, "Allow", "Tcp", "*", "22-10"),
		rule("p", 200, "Allow", "Tcp", "*", "70000"),
	} {
		if _, err := Network([]map[string]any{nsg("x", bad)}); err == nil {
			t.Errorf("rule %v accepted", bad)
		}
	}
}

func TestPortSets(t *testing.T) {
	p := Ports{}.add(span{80, 80}).add(span{81, 90}).add(span{100, 200})
	if p.String() != "80-90,100-200" {
		t.Errorf("add: %s", p)
	}
	if q := p.minus(span{85, 150}); q.String() != "80-84,151-200" {
		t.Errorf("minus: %s", q)
	}
	if q := p.intersect(Ports{{88, 120}}); q.String() != "88-90,100-120" {
		t.Errorf("intersect: %s", q)
	}
	for s, want := range map[string]bool{"Internet": true, "*": true, "203.0.113.0/24": true, "10.0.0.0/8": false,
		"10.2.0.0/16": false, "VirtualNetwork": false, "0.0.0.0/0": true, "192.168.1.4": false, "8.8.8.8": true} {
		if internetPrefix(s) != want {
			t.Errorf("internetPrefix(%q) = %v", s, !want)
		}
	}
}
