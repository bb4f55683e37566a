// Command estategen writes a synthetic `az resource list` estate for the
// comparison of steward policy scan with OPA (bench/opa-compare.sh):
//
//	go run ./bench/estategen -n 100000 -seed 20 > estate.json
//
// The output is a JSON array indented as az prints it (two spaces, keys
// in order), one resource per element, with their properties (as
// `az resource list` gives them once expanded): network security groups
// with security rules, role assignments, storage accounts, virtual
// machines and key vaults, with tags and locations. The same seed always
// gives the same bytes. 100,000 resources are about 61 MB.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

func main() {
	n := flag.Int("n", 100000, "number of resources")
	seed := flag.Uint64("seed", 20, "random seed")
	flag.Parse()
	if *n < 0 {
		fmt.Fprintln(os.Stderr, "estategen: -n must not be negative")
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := generate(w, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "estategen:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "estategen:", err)
		os.Exit(1)
	}
}

// The built-in role definitions the role assignments refer to.
const (
	roleOwner       = "8e3af657-a8ff-443d-a75c-2fe8c4bcb635"
	roleContributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	roleReader      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	roleBlobReader  = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
)

var (
	// locations: most in the allowed set of the benchmark's definition
	// (westeurope, northeurope), some outside it.
	locations = []string{"westeurope", "westeurope", "westeurope", "northeurope", "northeurope", "eastus", "WestEurope", "southeastasia"}
	roles     = []string{roleOwner, roleContributor, roleContributor, roleReader, roleReader, roleReader, roleBlobReader}
	principal = []string{"User", "User", "Group", "ServicePrincipal", "ServicePrincipal"}
	envs      = []string{"prod", "test", "dev"}
	vmSizes   = []string{"Standard_D2s_v5", "Standard_D4s_v5", "Standard_B2ms", "Standard_E8s_v5"}
	tlsVers   = []string{"TLS1_2", "TLS1_2", "TLS1_2", "TLS1_2", "TLS1_1", "TLS1_0"}
	ports     = []string{"22", "22", "443", "80", "3389", "*", "8080"}
	prefixes  = []string{"*", "Internet", "0.0.0.0/0", "10.0.0.0/8", "VirtualNetwork", "192.168.1.0/24", "10.1.0.0/16"}
	accesses  = []string{"Allow", "Allow", "Deny"}
	dirs      = []string{"Inbound", "Inbound", "Outbound"}
)

const (
	subscriptions = 20
	groupsPerSub  = 50
)

// gen draws the estate's values from one PCG stream.
type gen struct{ r *rand.Rand }

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) guid() string {
	a, b := g.r.Uint64(), g.r.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a), uint16(b>>48), b&0xffffffffffff)
}

// tags: most resources carry costCenter (some spelled CostCenter, tag
// names being case-insensitive), some none at all.
func (g *gen) tags() map[string]any {
	t := map[string]any{}
	switch g.r.IntN(10) {
	case 0:
		return t
	case 1:
		t["CostCenter"] = fmt.Sprintf("cc-%03d", g.r.IntN(100))
	case 2, 3:
		// no costCenter
	default:
		t["costCenter"] = fmt.Sprintf("cc-%03d", g.r.IntN(100))
	}
	t["env"] = g.pick(envs)
	return t
}

// generate writes n resources as one indented JSON array.
func generate(w io.Writer, n int, seed uint64) error {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5ca1ab1e))}
	subs := make([]string, subscriptions)
	for i := range subs {
		subs[i] = g.guid()
	}
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i := range n {
		sub := subs[g.r.IntN(len(subs))]
		rg := fmt.Sprintf("rg-%s-%03d", g.pick(envs), g.r.IntN(groupsPerSub))
		res := g.resource(i, sub, rg)
		data, err := json.MarshalIndent(res, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if i == 0 {
			sep = "\n  "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if n > 0 {
		_, err := io.WriteString(w, "\n]\n")
		return err
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

// resource draws resource i: 15 % network security groups, 25 % role
// assignments, 20 % each storage accounts, virtual machines, key vaults.
func (g *gen) resource(i int, sub, rg string) map[string]any {
	rgID := "/subscriptions/" + sub + "/resourceGroups/" + rg
	base := func(typ, name string) map[string]any {
		return map[string]any{
			"id":       rgID + "/providers/" + typ + "/" + name,
			"location": g.pick(locations),
			"name":     name, "resourceGroup": rg,
			"tags": g.tags(), "type": typ,
		}
	}
	switch k := g.r.IntN(20); {
	case k < 3:
		r := base("Microsoft.Network/networkSecurityGroups", fmt.Sprintf("nsg-%06d", i))
		var rules []any
		for j := range 1 + g.r.IntN(3) {
			rules = append(rules, map[string]any{
				"name": fmt.Sprintf("rule-%d", j),
				"properties": map[string]any{
					"access": g.pick(accesses), "direction": g.pick(dirs), "priority": 100 + 10*j,
					"protocol": "Tcp", "destinationPortRange": g.pick(ports), "sourceAddressPrefix": g.pick(prefixes),
				},
			})
		}
		r["properties"] = map[string]any{"securityRules": rules}
		return r
	case k < 8:
		name := g.guid()
		return map[string]any{
			"id":   rgID + "/providers/Microsoft.Authorization/roleAssignments/" + name,
			"name": name, "type": "Microsoft.Authorization/roleAssignments", "resourceGroup": rg,
			"properties": map[string]any{
				"roleDefinitionId": "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + g.pick(roles),
				"principalId":      g.guid(), "principalType": g.pick(principal),
			},
		}
	case k < 12:
		r := base("Microsoft.Storage/storageAccounts", fmt.Sprintf("st%06d", i))
		r["kind"], r["sku"] = "StorageV2", map[string]any{"name": "Standard_LRS"}
		r["properties"] = map[string]any{
			"supportsHttpsTrafficOnly": g.r.IntN(8) != 0, "minimumTlsVersion": g.pick(tlsVers),
			"allowBlobPublicAccess": g.r.IntN(4) == 0,
		}
		return r
	case k < 16:
		r := base("Microsoft.Compute/virtualMachines", fmt.Sprintf("vm-%06d", i))
		r["properties"] = map[string]any{
			"hardwareProfile": map[string]any{"vmSize": g.pick(vmSizes)},
			"vmId":            g.guid(),
		}
		return r
	default:
		r := base("Microsoft.KeyVault/vaults", fmt.Sprintf("kv-%06d", i))
		r["properties"] = map[string]any{
			"enableSoftDelete": true, "enablePurgeProtection": g.r.IntN(3) != 0,
		}
		return r
	}
}
