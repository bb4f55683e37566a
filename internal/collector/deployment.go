package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// Application provisioning states, as Microsoft.Solutions/applications and
// the lifecycle notifications spell them.
const (
	StateAccepted  = "Accepted"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
	StateDeleting  = "Deleting"
	StateDeleted   = "Deleted"
)

// Deployment is one managed application the publisher knows of: the record
// the notification handler keeps in the inventory table.
type Deployment struct {
	// ApplicationID is the application's resource ID, as ARM spells it.
	ApplicationID string `json:"applicationId"`
	TenantID      string `json:"tenantId,omitempty"`
	// SubscriptionID and ResourceGroup locate the application (the
	// customer's subscription).
	SubscriptionID string `json:"subscriptionId"`
	ResourceGroup  string `json:"resourceGroup"`
	Name           string `json:"name"`
	// ManagedResourceGroupID is the scope the collector reads.
	ManagedResourceGroupID string `json:"managedResourceGroupId"`
	PlanName               string `json:"planName,omitempty"`
	PlanProduct            string `json:"planProduct,omitempty"`
	PlanPublisher          string `json:"planPublisher,omitempty"`
	PlanVersion            string `json:"planVersion,omitempty"`
	ResourceUsageID        string `json:"resourceUsageId,omitempty"`
	// ProvisioningState is the application's state as the last GET on it
	// returned (not as a notification claimed).
	ProvisioningState string    `json:"provisioningState"`
	LastEventType     string    `json:"lastEventType,omitempty"`
	LastEventTime     time.Time `json:"lastEventTime,omitzero"`
	LastSeen          time.Time `json:"lastSeen,omitzero"`
}

// Key is the deployment's inventory key: PartitionKey is the subscription
// and RowKey the resource group and name, lower-cased (ARM IDs are
// case-insensitive) and joined by '|', a character neither a resource
// group nor an application name may hold. Two applications never share a
// key, unlike the seed's subscription/name pair.
func (d Deployment) Key() (partition, row string) {
	return strings.ToLower(d.SubscriptionID), strings.ToLower(d.ResourceGroup) + "|" + strings.ToLower(d.Name)
}

// Collectable reports whether the collector reads this deployment: its
// application exists, has succeeded, and names its managed resource group.
func (d Deployment) Collectable() bool {
	return d.ProvisioningState == StateSucceeded && d.ManagedResourceGroupID != ""
}

// ParseApplicationID parses a Microsoft.Solutions/applications resource ID,
// case-insensitively and with or without its leading '/' (Azure's own
// notification samples omit it).
func ParseApplicationID(id string) (sub, rg, name string, err error) {
	id = strings.TrimSpace(id)
	if !strings.HasPrefix(id, "/") {
		id = "/" + id
	}
	r, err := arm.ParseResourceID(id)
	if err != nil || r.SubscriptionID == "" || r.ResourceGroup == "" || r.Parent != nil ||
		!strings.EqualFold(r.Namespace, "Microsoft.Solutions") || len(r.Types) != 1 ||
		!strings.EqualFold(r.Types[0], "applications") {
		return "", "", "", fmt.Errorf("'%s' is not a Microsoft.Solutions/applications resource ID", id)
	}
	return r.SubscriptionID, r.ResourceGroup, r.Names[0], nil
}

// ErrNoDeployment is returned by Inventory.Get for an unknown deployment.
var ErrNoDeployment = errors.New("no such deployment")

// Inventory keeps the deployments. Implementations are safe for
// concurrent use.
type Inventory interface {
	// Get returns the deployment at the key, or ErrNoDeployment.
	Get(ctx context.Context, partition, row string) (Deployment, error)
	// Put creates or replaces the deployment.
	Put(ctx context.Context, d Deployment) error
	// Delete removes the deployment at the key; a missing one is not an
	// error.
	Delete(ctx context.Context, partition, row string) error
	// List returns every deployment.
	List(ctx context.Context) ([]Deployment, error)
}
