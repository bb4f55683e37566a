package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"

	"github.com/steward-gov/steward/internal/arm"
)

// webhookTimeout bounds one post to a receiver.
const webhookTimeout = 10 * time.Second

// ActionGroupNotifier delivers incidents through an action group read
// with the Azure SDK: the payload (common alert schema) is posted to each
// of its webhook receivers. Other receiver kinds (email, SMS, ...) are not
// served by report incidents; a group without a webhook receiver is an
// error, so that a run shows that nobody was told.
func ActionGroupNotifier(src Source, actionGroupID string, client *http.Client) (NotifyFunc, error) {
	rid, err := arm.ParseResourceID(actionGroupID)
	if err != nil || rid.ResourceGroup == "" {
		return nil, fmt.Errorf("action group %q: not an action group resource ID", actionGroupID)
	}
	c, err := armmonitor.NewActionGroupsClient(rid.SubscriptionID, src.Credential, src.Options)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, payload []byte) error {
		g, err := c.Get(ctx, rid.ResourceGroup, rid.Name(), nil)
		if err != nil {
			return err
		}
		if g.Properties == nil || g.Properties.Enabled == nil || !*g.Properties.Enabled {
			return fmt.Errorf("action group %s is disabled", rid.Name())
		}
		var urls []string
		for _, w := range g.Properties.WebhookReceivers {
			if w != nil && deref(w.ServiceURI) != "" {
				urls = append(urls, *w.ServiceURI)
			}
		}
		if len(urls) == 0 {
			return fmt.Errorf("action group %s has no webhook receiver (report incidents are posted to webhooks)", rid.Name())
		}
		return PostWebhooks(ctx, client, urls, payload)
	}, nil
}

// PostWebhooks posts payload to every URL; a receiver answering other
// than 2xx, or not answering in time, is an error.
func PostWebhooks(ctx context.Context, client *http.Client, urls []string, payload []byte) error {
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout}
	}
	var errs []error
	for _, u := range urls {
		pctx, cancel := context.WithTimeout(ctx, webhookTimeout)
		req, err := http.NewRequestWithContext(pctx, http.MethodPost, u, bytes.NewReader(payload))
		if err != nil {
			cancel()
			errs = append(errs, err)
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("webhook answered %s", resp.Status)
			}
		}
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
