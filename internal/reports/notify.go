package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"

	"github.com/steward-gov/steward/internal/arm"
)

// webhookTimeout bounds one post to a receiver.
const webhookTimeout = 10 * time.Second

// Mailer sends an email (the alerts app's SMTPMailer is one).
type Mailer interface {
	Send(ctx context.Context, to, subject string, body []byte) error
}

// ActionGroupNotifier delivers incidents through an action group read
// with the Azure SDK: the payload (common alert schema) is posted to each
// of its webhook receivers and mailed, through mailer, to each of its
// email receivers. Other receiver kinds (SMS, voice, ...) are not served
// by report incidents; a group with neither webhook nor email receivers
// is an error, and so is an email receiver without a mailer, so that a run
// shows that nobody was told.
func ActionGroupNotifier(src Source, actionGroupID string, client *http.Client, mailer Mailer) (NotifyFunc, error) {
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
		var urls, emails []string
		for _, w := range g.Properties.WebhookReceivers {
			if w != nil && deref(w.ServiceURI) != "" {
				urls = append(urls, *w.ServiceURI)
			}
		}
		for _, e := range g.Properties.EmailReceivers {
			if e != nil && deref(e.EmailAddress) != "" {
				emails = append(emails, *e.EmailAddress)
			}
		}
		if len(urls)+len(emails) == 0 {
			return fmt.Errorf("action group %s has no webhook or email receiver (report incidents go to those)", rid.Name())
		}
		var errs []error
		if len(urls) > 0 {
			errs = append(errs, PostWebhooks(ctx, client, urls, payload))
		}
		if len(emails) > 0 {
			errs = append(errs, MailIncident(ctx, mailer, emails, payload))
		}
		return errors.Join(errs...)
	}, nil
}

// MailIncident mails an incident to each address: the subject in Azure
// Monitor's form ("Fired:Sev2 Azure Monitor Alert RULE on RESOURCE"), the
// body a summary and then the common-alert-schema payload.
func MailIncident(ctx context.Context, mailer Mailer, to []string, payload []byte) error {
	if mailer == nil {
		return errors.New("the action group has email receivers and no SMTP server is configured (serve --smtp-addr and --smtp-from)")
	}
	var alert struct {
		Data struct {
			Essentials struct {
				AlertRule        string   `json:"alertRule"`
				Severity         string   `json:"severity"`
				MonitorCondition string   `json:"monitorCondition"`
				AlertTargetIDs   []string `json:"alertTargetIDs"`
				Description      string   `json:"description"`
				FiredDateTime    string   `json:"firedDateTime"`
				ResolvedDateTime string   `json:"resolvedDateTime"`
			} `json:"essentials"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &alert); err != nil {
		return fmt.Errorf("incident payload: %w", err)
	}
	e := alert.Data.Essentials
	target := strings.Join(e.AlertTargetIDs, ", ")
	short := target
	if i := strings.LastIndexByte(short, '/'); i >= 0 && len(e.AlertTargetIDs) == 1 {
		short = short[i+1:]
	}
	subject := fmt.Sprintf("%s:%s Azure Monitor Alert %s on %s", e.MonitorCondition, e.Severity, e.AlertRule, short)
	var b bytes.Buffer
	fmt.Fprintf(&b, "Steward report incident %s: %s\n\n", strings.ToLower(e.MonitorCondition), e.AlertRule)
	fmt.Fprintf(&b, "Severity:    %s\nCondition:   %s\nTarget:      %s\nFired:       %s\n", e.Severity, e.MonitorCondition, target, e.FiredDateTime)
	if e.ResolvedDateTime != "" {
		fmt.Fprintf(&b, "Resolved:    %s\n", e.ResolvedDateTime)
	}
	fmt.Fprintf(&b, "Description: %s\n\nPayload:\n", e.Description)
	if json.Indent(&b, payload, "", "  ") != nil {
		b.Write(payload)
	}
	b.WriteString("\n")
	var errs []error
	for _, addr := range to {
		mctx, cancel := context.WithTimeout(ctx, webhookTimeout)
		if err := mailer.Send(mctx, addr, subject, b.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("email to %s: %w", addr, err))
		}
		cancel()
	}
	return errors.Join(errs...)
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
