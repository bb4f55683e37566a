package cloud

import "context"

// PutOrphanDeployment stores a deployment in state (Accepted or Running)
// that no job runs and whose lock no one holds: what a Steward that
// stopped in the middle of a deployment leaves in the store.
func PutOrphanDeployment(ctx context.Context, c *Cloud, scope, name, state string) error {
	id := scope + "/providers/Microsoft.Resources/deployments/" + name
	doc := map[string]any{"id": id, "name": name, "type": TypeDeployment,
		"properties": map[string]any{"provisioningState": state, "mode": "Incremental"}}
	return c.putDeployment(ctx, scope, name, &deploymentRecord{Doc: doc, OperationID: "0000000000000001"}, nil, nil)
}

// DeploymentsStopping says whether StopDeployments has begun.
func DeploymentsStopping(c *Cloud) bool {
	c.deploys.mu.Lock()
	defer c.deploys.mu.Unlock()
	return c.deploys.stopped
}
