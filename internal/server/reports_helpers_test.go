package server

import (
	"strings"
	"testing"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

// armOptions are ARM client options aimed at e's Steward.
func (e *logsEnv) armOptions() *azarm.ClientOptions {
	o := &azarm.ClientOptions{ClientOptions: e.opts}
	o.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		azcloud.ResourceManager: {Endpoint: e.s.BaseURL, Audience: "https://management.azure.com"}}
	return o
}

// queryClient is a Logs query client of e's Steward.
func (e *logsEnv) queryClient(t *testing.T) *query.Client {
	t.Helper()
	o := &query.ClientOptions{ClientOptions: e.opts}
	o.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		query.ServiceName: {Audience: LogAnalyticsAudience, Endpoint: strings.TrimSuffix(e.s.BaseURL, "/") + "/v1"}}
	qc, err := query.NewClient(e.cred, o)
	if err != nil {
		t.Fatal(err)
	}
	return qc
}

// sshOpenNIC creates, in the resource group rg, an NSG letting SSH in from
// the Internet and a NIC with a public IP behind it (in subnet, when not
// empty). setSSH rewrites the rule's access ("Allow" or "Deny").
func sshOpenNIC(t *testing.T, e *logsEnv, rg, subnet string) (nsgID, nicID string, setSSH func(access string)) {
	t.Helper()
	nsgID = rg + "/providers/Microsoft.Network/networkSecurityGroups/web-nsg"
	nicID = rg + "/providers/Microsoft.Network/networkInterfaces/web-nic"
	rule := map[string]any{"priority": 100, "direction": "Inbound", "access": "Allow",
		"protocol": "Tcp", "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}
	nsg := map[string]any{"location": "eastus", "properties": map[string]any{"securityRules": []any{
		map[string]any{"name": "allow-ssh", "properties": rule}}}}
	e.mustARM(t, "PUT", nsgID, "2024-05-01", nsg)
	ipcfg := map[string]any{"publicIPAddress": map[string]any{"id": rg + "/providers/Microsoft.Network/publicIPAddresses/web-ip"}}
	if subnet != "" {
		ipcfg["subnet"] = map[string]any{"id": subnet}
	}
	e.mustARM(t, "PUT", nicID, "2024-05-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"networkSecurityGroup": map[string]any{"id": nsgID},
		"ipConfigurations":     []any{map[string]any{"name": "ipconfig1", "properties": ipcfg}}}})
	return nsgID, nicID, func(access string) {
		t.Helper()
		rule["access"] = access
		e.mustARM(t, "PUT", nsgID, "2024-05-01", nsg)
	}
}
