package cloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// deploymentJobs are the deployments this Cloud runs in the background.
// A running deployment holds the store's named lock of its key (an
// advisory lock on PostgreSQL, so another replica sees it held): a
// deployment found Accepted or Running whose lock is free was left behind
// by a Steward that stopped, and is marked Failed when read
// (docs/decisions/templates.md).
type deploymentJobs struct {
	mu      sync.Mutex
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	running map[string]chan struct{} // by deployment key; closed when the job ends
	stopped bool
}

// errDeploymentCanceled stops a deployment that was cancelled.
var errDeploymentCanceled = errors.New("deployment canceled")

// deploymentLockName is the store lock a running deployment holds.
func deploymentLockName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "cloud.deployment." + hex.EncodeToString(sum[:16])
}

// start registers a job for key and returns the context it runs in (done
// when the Cloud stops), the channel closed when it ends and the function
// that ends it; ok is false once the Cloud is stopping.
func (j *deploymentJobs) start(key string) (ctx context.Context, done <-chan struct{}, end func(), ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.stopped {
		return nil, nil, nil, false
	}
	if j.ctx == nil {
		j.ctx, j.stop = context.WithCancel(context.Background())
		j.running = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	j.running[key] = ch
	j.wg.Add(1)
	return j.ctx, ch, func() {
		j.mu.Lock()
		delete(j.running, key)
		j.mu.Unlock()
		close(ch)
		j.wg.Done()
	}, true
}

// done returns the channel closed when key's job ends, or nil when no job
// of this Cloud runs it (settle then asks the store's lock).
func (j *deploymentJobs) done(key string) <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	if ch, ok := j.running[key]; ok {
		return ch
	}
	return nil
}

// StopDeployments stops the deployments running in the background: each
// stops before its next resource write and is recorded Failed
// (DeploymentInterrupted). It waits for them, and no deployment starts
// afterwards. The server calls it before closing the store.
func (c *Cloud) StopDeployments() {
	j := &c.deploys
	j.mu.Lock()
	j.stopped = true
	if j.ctx == nil {
		j.ctx, j.stop = context.WithCancel(context.Background())
	}
	if j.stop != nil {
		j.stop()
	}
	j.mu.Unlock()
	j.wg.Wait()
}

// interruptedError is the error of a deployment whose Steward stopped
// while it ran.
func interruptedError() *arm.Error {
	return &arm.Error{Code: "DeploymentInterrupted", Message: "The deployment was interrupted: the Steward running it stopped. Resources it had written stay; deploy again to finish."}
}

// settle returns rec, or, when rec is Accepted or Running and no one runs
// it any more (its lock is free), the record marked Failed as it is then
// stored.
func (c *Cloud) settle(ctx context.Context, scope, name string, rec *deploymentRecord) *deploymentRecord {
	if !inProgress(rec.state()) {
		return rec
	}
	key := deploymentKey(scope, name)
	if c.deploys.done(key) != nil {
		return rec
	}
	lock, ok, err := c.store.TryLock(ctx, deploymentLockName(key))
	if err != nil || !ok {
		return rec
	}
	defer lock.Release(context.WithoutCancel(ctx))
	out, err := c.updateDeployment(ctx, scope, name, func(r *deploymentRecord) bool {
		if !inProgress(r.state()) {
			return false
		}
		props, _ := r.Doc["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			r.Doc["properties"] = props
		}
		props["provisioningState"] = "Failed"
		props["error"] = &arm.Error{Code: "DeploymentFailed", Message: "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
			Details: []*arm.Error{interruptedError()}}
		return true
	}, nil)
	if err != nil {
		return rec
	}
	return out
}

// checkStop is called before each write of a running deployment: it
// stops the deployment when it was cancelled or the Cloud is stopping.
func (d *deployment) checkStop() error {
	if d.job == nil {
		return nil
	}
	rec, err := d.c.getDeployment(d.ctx, d.scope, d.name)
	if err != nil {
		return &deployFailed{err: arm.AsError(storeError(err))}
	}
	if rec.CancelRequested {
		return errDeploymentCanceled
	}
	if d.job.Err() != nil {
		return &deployFailed{err: interruptedError()}
	}
	return nil
}

func (c *Cloud) serveCancel(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodPost {
		return nil, methodNotAllowed(call.Method)
	}
	rec, err := c.loadDeployment(ctx, call)
	if err != nil {
		return nil, err
	}
	scope, name := deploymentScope(call.Target)
	state := rec.state()
	if inProgress(state) {
		rec, err = c.updateDeployment(ctx, scope, name, func(r *deploymentRecord) bool {
			if !inProgress(r.state()) {
				return false
			}
			r.CancelRequested = true
			return true
		}, nil)
		if errors.Is(err, store.ErrNotFound) {
			return nil, deploymentNotFound(name)
		}
		if err != nil {
			return nil, storeError(err)
		}
		state = rec.state()
	}
	if !inProgress(state) {
		return nil, arm.Errorf(http.StatusConflict, "DeploymentCannotBeCancelled",
			"The deployment '%s' cannot be cancelled: its provisioning state is '%s'; only Accepted or Running deployments can be.", truncate(name, 100), state)
	}
	// The job stops before its next write and records the deployment
	// Canceled: the answer does not wait for it (Azure's cancel is
	// asynchronous too; GET shows Running until then).
	return &Response{Status: http.StatusNoContent}, nil
}

// settleDoc is settle for a listed deployment document.
func (c *Cloud) settleDoc(ctx context.Context, doc map[string]any) map[string]any {
	props, _ := doc["properties"].(map[string]any)
	state, _ := props["provisioningState"].(string)
	if !inProgress(state) {
		return doc
	}
	id, _ := doc["id"].(string)
	r, err := arm.ParseResourceID(id)
	if err != nil || len(r.Names) == 0 {
		return doc
	}
	scope, name := containerOf(r).String(), r.Names[0]
	rec, err := c.getDeployment(ctx, scope, name)
	if err != nil {
		return doc
	}
	return c.settle(ctx, scope, name, rec).Doc
}

// Deploy runs a deployment for other cloud code (a managed application's
// mainTemplate, a remediation): a PUT of body ({"location"?,
// "properties": {"mode", "template", "parameters", ...}}) at scope
// (a resource group, subscription, management group or "" for the tenant)
// through the whole pipeline as the principal in ctx (or the call's), and
// waits for the deployment's end. It returns the final deployment document
// (provisioningState Succeeded, Failed with its error, or Canceled), or
// the PUT's error (a template, permission or policy problem).
func (c *Cloud) Deploy(ctx context.Context, call *Call, scope, name string, body map[string]any) (map[string]any, error) {
	path := strings.TrimRight(scope, "/") + "/providers/Microsoft.Resources/deployments/" + url.PathEscape(name)
	const api = "2021-04-01"
	status, out := c.subRequest(ctx, call, http.MethodPut, path, api, body)
	if status >= 300 {
		if e := arm.DecodeError(status, out); e != nil {
			return nil, e
		}
		return nil, arm.Errorf(status, "DeploymentFailed", "The deployment '%s' could not be started.", name)
	}
	// An internal PUT returns once the deployment has ended.
	status, out = c.subRequest(ctx, call, http.MethodGet, path, api, nil)
	if status != http.StatusOK {
		if e := arm.DecodeError(status, out); e != nil {
			return nil, e
		}
		return nil, arm.Errorf(status, "DeploymentNotFound", "The deployment '%s' could not be read.", name)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}
