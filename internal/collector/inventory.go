package collector

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// TableInventory keeps the deployments in a Table service table, one entity
// per deployment keyed by Deployment.Key, through aztables.
type TableInventory struct {
	Client *aztables.Client

	once    sync.Mutex
	created bool
}

// entity is the wire form of a deployment.
type entity struct {
	PartitionKey           string
	RowKey                 string
	ApplicationID          string `json:"ApplicationId"`
	TenantID               string `json:"TenantId"`
	SubscriptionID         string `json:"SubscriptionId"`
	ResourceGroup          string
	ApplicationName        string
	ManagedResourceGroupID string `json:"ManagedResourceGroupId"`
	PlanName               string
	PlanProduct            string
	PlanPublisher          string
	PlanVersion            string
	ResourceUsageID        string `json:"ResourceUsageId"`
	ProvisioningState      string
	LastEventType          string
	LastEventTime          string
	LastEventTimeType      string `json:"LastEventTime@odata.type,omitempty"`
	LastSeen               string
	LastSeenType           string `json:"LastSeen@odata.type,omitempty"`
}

func (t *TableInventory) ensure(ctx context.Context) error {
	t.once.Lock()
	defer t.once.Unlock()
	if t.created {
		return nil
	}
	_, err := t.Client.CreateTable(ctx, nil)
	var re *azcore.ResponseError
	if err != nil && !(errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.ErrorCode == string(aztables.TableAlreadyExists))) {
		return err
	}
	t.created = true
	return nil
}

func edmTime(t time.Time) (string, string) {
	if t.IsZero() {
		return "", ""
	}
	return t.UTC().Format(time.RFC3339Nano), "Edm.DateTime"
}

// Put implements Inventory.
func (t *TableInventory) Put(ctx context.Context, d Deployment) error {
	if err := t.ensure(ctx); err != nil {
		return err
	}
	b, err := json.Marshal(toEntity(d))
	if err != nil {
		return err
	}
	_, err = t.Client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	return err
}

// maxTransaction is the most entities one Table service transaction
// (entity group transaction) may hold.
const maxTransaction = 100

// PutMany records many deployments at once, for bulk loads (an import,
// a benchmark): one Table service transaction per 100 deployments of a
// subscription (a transaction holds one partition's entities).
func (t *TableInventory) PutMany(ctx context.Context, ds []Deployment) error {
	if err := t.ensure(ctx); err != nil {
		return err
	}
	byPartition := map[string][]aztables.TransactionAction{}
	var order []string
	for _, d := range ds {
		e := toEntity(d)
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, ok := byPartition[e.PartitionKey]; !ok {
			order = append(order, e.PartitionKey)
		}
		byPartition[e.PartitionKey] = append(byPartition[e.PartitionKey], aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: b})
	}
	for _, pk := range order {
		actions := byPartition[pk]
		for len(actions) > 0 {
			n := min(len(actions), maxTransaction)
			if _, err := t.Client.SubmitTransaction(ctx, actions[:n], nil); err != nil {
				return err
			}
			actions = actions[n:]
		}
	}
	return nil
}

// toEntity is a deployment's inventory entity.
func toEntity(d Deployment) entity {
	pk, rk := d.Key()
	e := entity{PartitionKey: pk, RowKey: rk, ApplicationID: d.ApplicationID, TenantID: d.TenantID,
		SubscriptionID: d.SubscriptionID, ResourceGroup: d.ResourceGroup, ApplicationName: d.Name,
		ManagedResourceGroupID: d.ManagedResourceGroupID, PlanName: d.PlanName, PlanProduct: d.PlanProduct,
		PlanPublisher: d.PlanPublisher, PlanVersion: d.PlanVersion, ResourceUsageID: d.ResourceUsageID,
		ProvisioningState: d.ProvisioningState, LastEventType: d.LastEventType}
	e.LastEventTime, e.LastEventTimeType = edmTime(d.LastEventTime)
	e.LastSeen, e.LastSeenType = edmTime(d.LastSeen)
	return e
}

func (e entity) deployment() Deployment {
	d := Deployment{ApplicationID: e.ApplicationID, TenantID: e.TenantID, SubscriptionID: e.SubscriptionID,
		ResourceGroup: e.ResourceGroup, Name: e.ApplicationName, ManagedResourceGroupID: e.ManagedResourceGroupID,
		PlanName: e.PlanName, PlanProduct: e.PlanProduct, PlanPublisher: e.PlanPublisher, PlanVersion: e.PlanVersion,
		ResourceUsageID: e.ResourceUsageID, ProvisioningState: e.ProvisioningState, LastEventType: e.LastEventType}
	d.LastEventTime, _ = time.Parse(time.RFC3339Nano, e.LastEventTime)
	d.LastSeen, _ = time.Parse(time.RFC3339Nano, e.LastSeen)
	return d
}

// Get implements Inventory.
func (t *TableInventory) Get(ctx context.Context, partition, row string) (Deployment, error) {
	if err := t.ensure(ctx); err != nil {
		return Deployment{}, err
	}
	resp, err := t.Client.GetEntity(ctx, partition, row, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return Deployment{}, ErrNoDeployment
	}
	if err != nil {
		return Deployment{}, err
	}
	var e entity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return Deployment{}, err
	}
	return e.deployment(), nil
}

// Delete implements Inventory.
func (t *TableInventory) Delete(ctx context.Context, partition, row string) error {
	if err := t.ensure(ctx); err != nil {
		return err
	}
	_, err := t.Client.DeleteEntity(ctx, partition, row, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}

// List implements Inventory.
func (t *TableInventory) List(ctx context.Context) ([]Deployment, error) {
	if err := t.ensure(ctx); err != nil {
		return nil, err
	}
	var out []Deployment
	pager := t.Client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Top: to.Ptr(int32(1000))})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, raw := range page.Entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return nil, err
			}
			out = append(out, e.deployment())
		}
	}
	return out, nil
}
