// Package synth generates synthetic estates for the scan benchmarks: a
// deterministic mix of subscriptions, resource groups and common
// resource types (storage, key vaults, SQL servers and their auditing
// settings, web apps, virtual machines, disks, networks), with property
// values that make some built-in policies compliant and others not.
package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
)

// perGroup is how many resources share a resource group.
const perGroup = 100

// perSubscription is how many resource groups share a subscription.
const perSubscription = 50

var locations = []string{"westeurope", "northeurope", "eastus", "eastus2", "westus2", "uksouth"}

// Write writes n resource records as JSON Lines (jsonl) or as a JSON
// array (json), generated from seed. The containers (subscriptions and
// resource groups) are among the n.
func Write(w io.Writer, n int, seed uint64, format string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if format == "json" {
		bw.WriteString("[\n")
	}
	for i := range n {
		if format == "json" && i > 0 {
			bw.WriteString(",")
		}
		if err := enc.Encode(resource(r, i)); err != nil {
			return err
		}
	}
	if format == "json" {
		bw.WriteString("]\n")
	}
	return bw.Flush()
}

// resource is the i-th record: every perGroup-th a resource group, every
// perGroup*perSubscription-th a subscription.
func resource(r *rand.Rand, i int) map[string]any {
	group := i / perGroup
	sub := fmt.Sprintf("%08d-0000-4000-8000-%012d", group/perSubscription, 0)
	subID := "/subscriptions/" + sub
	rgName := fmt.Sprintf("rg-%05d", group)
	rgID := subID + "/resourceGroups/" + rgName
	loc := locations[r.IntN(len(locations))]
	tags := map[string]any{}
	if r.IntN(3) > 0 {
		tags["env"] = []string{"prod", "test", "dev"}[r.IntN(3)]
	}
	if r.IntN(2) == 0 {
		tags["owner"] = fmt.Sprintf("team-%d", r.IntN(20))
	}
	switch {
	case i%(perGroup*perSubscription) == 0:
		return map[string]any{"id": subID, "type": "Microsoft.Resources/subscriptions", "name": "sub-" + sub[:8],
			"subscriptionId": sub, "tags": tags}
	case i%perGroup == 0:
		return map[string]any{"id": rgID, "type": "Microsoft.Resources/subscriptions/resourceGroups", "name": rgName,
			"location": loc, "tags": tags, "properties": map[string]any{"provisioningState": "Succeeded"}}
	}
	yes := func(pct int) bool { return r.IntN(100) < pct }
	name := fmt.Sprintf("r%07d", i)
	base := func(typ, path string, props map[string]any) map[string]any {
		return map[string]any{"id": rgID + "/providers/" + path + "/" + name, "type": typ, "name": name, "location": loc,
			"tags": tags, "properties": props, "apiVersion": "2023-01-01"}
	}
	switch i % 10 {
	case 1, 2:
		d := base("Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts", map[string]any{
			"supportsHttpsTrafficOnly": yes(85), "minimumTlsVersion": []string{"TLS1_0", "TLS1_2", "TLS1_2"}[r.IntN(3)],
			"allowBlobPublicAccess": yes(30), "allowSharedKeyAccess": yes(60), "publicNetworkAccess": []string{"Enabled", "Disabled"}[r.IntN(2)],
			"networkAcls":  map[string]any{"defaultAction": []string{"Allow", "Deny"}[r.IntN(2)], "bypass": "AzureServices", "ipRules": []any{}, "virtualNetworkRules": []any{}},
			"encryption":   map[string]any{"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": yes(20)},
			"accessTier":   "Hot",
			"isHnsEnabled": yes(10)})
		d["kind"], d["sku"] = "StorageV2", map[string]any{"name": "Standard_LRS", "tier": "Standard"}
		return d
	case 3:
		return base("Microsoft.KeyVault/vaults", "Microsoft.KeyVault/vaults", map[string]any{
			"enableSoftDelete": yes(90), "enablePurgeProtection": yes(40), "enableRbacAuthorization": yes(50),
			"publicNetworkAccess": []string{"Enabled", "Disabled"}[r.IntN(2)], "tenantId": "00000000-0000-0000-0000-000000000000",
			"networkAcls": map[string]any{"defaultAction": []string{"Allow", "Deny"}[r.IntN(2)]}, "sku": map[string]any{"name": "standard"}})
	case 4:
		if i%20 == 14 {
			// an auditing settings child of the SQL server before it
			server := fmt.Sprintf("r%07d", i-10)
			return map[string]any{"id": rgID + "/providers/Microsoft.Sql/servers/" + server + "/auditingSettings/default",
				"type": "Microsoft.Sql/servers/auditingSettings", "name": "default",
				"properties": map[string]any{"state": []string{"Enabled", "Disabled"}[r.IntN(2)], "retentionDays": r.IntN(120)}}
		}
		return base("Microsoft.Sql/servers", "Microsoft.Sql/servers", map[string]any{
			"version": "12.0", "minimalTlsVersion": []string{"1.0", "1.2"}[r.IntN(2)], "publicNetworkAccess": []string{"Enabled", "Disabled"}[r.IntN(2)],
			"administratorLogin": "sqladmin"})
	case 5:
		d := base("Microsoft.Web/sites", "Microsoft.Web/sites", map[string]any{
			"httpsOnly": yes(70), "clientCertEnabled": yes(20), "publicNetworkAccess": "Enabled",
			"siteConfig": map[string]any{"minTlsVersion": []string{"1.0", "1.2"}[r.IntN(2)], "ftpsState": []string{"AllAllowed", "FtpsOnly", "Disabled"}[r.IntN(3)],
				"http20Enabled": yes(50), "remoteDebuggingEnabled": yes(10)}})
		d["kind"] = []string{"app", "functionapp", "app,linux"}[r.IntN(3)]
		return d
	case 6:
		d := base("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines", map[string]any{
			"hardwareProfile": map[string]any{"vmSize": []string{"Standard_D2s_v3", "Standard_B2ms"}[r.IntN(2)]},
			"storageProfile": map[string]any{"imageReference": map[string]any{"publisher": "Canonical", "offer": "UbuntuServer", "sku": "18.04-LTS"},
				"osDisk": map[string]any{"osType": "Linux", "managedDisk": map[string]any{"storageAccountType": "Premium_LRS"}}},
			"osProfile":       map[string]any{"linuxConfiguration": map[string]any{"disablePasswordAuthentication": yes(70)}},
			"securityProfile": map[string]any{"encryptionAtHost": yes(30)}})
		if yes(50) {
			d["identity"] = map[string]any{"type": "SystemAssigned"}
		}
		return d
	case 7:
		return base("Microsoft.Compute/disks", "Microsoft.Compute/disks", map[string]any{
			"diskSizeGB": 128, "encryption": map[string]any{"type": "EncryptionAtRestWithPlatformKey"},
			"networkAccessPolicy": []string{"AllowAll", "DenyAll"}[r.IntN(2)], "publicNetworkAccess": []string{"Enabled", "Disabled"}[r.IntN(2)]})
	case 8:
		return base("Microsoft.Network/networkSecurityGroups", "Microsoft.Network/networkSecurityGroups", map[string]any{
			"securityRules": []any{map[string]any{"name": "ssh", "properties": map[string]any{"access": []string{"Allow", "Deny"}[r.IntN(2)],
				"direction": "Inbound", "destinationPortRange": "22", "sourceAddressPrefix": []string{"*", "10.0.0.0/8"}[r.IntN(2)], "protocol": "Tcp"}}}})
	case 9:
		return base("Microsoft.Network/virtualNetworks", "Microsoft.Network/virtualNetworks", map[string]any{
			"addressSpace": map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}}, "enableDdosProtection": yes(10),
			"subnets": []any{map[string]any{"name": "default", "properties": map[string]any{"addressPrefix": "10.0.0.0/24",
				"networkSecurityGroup": map[string]any{"id": rgID + "/providers/Microsoft.Network/networkSecurityGroups/nsg"}}}}})
	}
	return base("Microsoft.Network/publicIPAddresses", "Microsoft.Network/publicIPAddresses", map[string]any{
		"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"})
}
