package alerts

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// Receiver kinds Steward delivers to.
const (
	ReceiverWebhook = "webhook"
	ReceiverEmail   = "email"
)

// Receiver is one destination of an action group.
type Receiver struct {
	Kind, Name string
	// URL is a webhook's (or Logic App's, Function's) address; Email an
	// email receiver's address.
	URL, Email   string
	CommonSchema bool
}

// ActionGroup is a validated action group.
type ActionGroup struct {
	ID, ShortName string
	Enabled       bool
	Receivers     []Receiver
}

type groupDoc struct {
	Location   string `json:"location"`
	Properties struct {
		GroupShortName *string `json:"groupShortName"`
		Enabled        *bool   `json:"enabled"`
		Email          []struct {
			Name         string `json:"name"`
			EmailAddress string `json:"emailAddress"`
			Common       bool   `json:"useCommonAlertSchema"`
		} `json:"emailReceivers"`
		Webhook []struct {
			Name       string `json:"name"`
			ServiceURI string `json:"serviceUri"`
			Common     bool   `json:"useCommonAlertSchema"`
			UseAADAuth bool   `json:"useAadAuth"`
		} `json:"webhookReceivers"`
		LogicApp []struct {
			Name        string `json:"name"`
			CallbackURL string `json:"callbackUrl"`
			Common      bool   `json:"useCommonAlertSchema"`
		} `json:"logicAppReceivers"`
		Function []struct {
			Name           string `json:"name"`
			HTTPTriggerURL string `json:"httpTriggerUrl"`
			Common         bool   `json:"useCommonAlertSchema"`
		} `json:"azureFunctionReceivers"`
		// Receivers Steward cannot deliver to; a group naming any is
		// refused rather than accepted and silently never notified.
		SMS      []json.RawMessage `json:"smsReceivers"`
		Voice    []json.RawMessage `json:"voiceReceivers"`
		Push     []json.RawMessage `json:"azureAppPushReceivers"`
		Runbook  []json.RawMessage `json:"automationRunbookReceivers"`
		ITSM     []json.RawMessage `json:"itsmReceivers"`
		ARMRole  []json.RawMessage `json:"armRoleReceivers"`
		EventHub []json.RawMessage `json:"eventHubReceivers"`
		Incident []json.RawMessage `json:"incidentReceivers"`
	} `json:"properties"`
}

// ParseActionGroup validates an action group document as the service does
// at PUT. Errors are *arm.Error (400).
func ParseActionGroup(id string, body []byte) (*ActionGroup, error) {
	var d groupDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: %v", err)
	}
	p := d.Properties
	if p.GroupShortName == nil || *p.GroupShortName == "" {
		return nil, invalid("The property 'groupShortName' is required.")
	}
	if len(*p.GroupShortName) > 12 {
		return nil, invalid("groupShortName '%s' is longer than 12 characters.", *p.GroupShortName)
	}
	if p.Enabled == nil {
		return nil, invalid("The property 'enabled' is required.")
	}
	for kind, n := range map[string]int{"smsReceivers": len(p.SMS), "voiceReceivers": len(p.Voice),
		"azureAppPushReceivers": len(p.Push), "automationRunbookReceivers": len(p.Runbook), "itsmReceivers": len(p.ITSM),
		"armRoleReceivers": len(p.ARMRole), "eventHubReceivers": len(p.EventHub), "incidentReceivers": len(p.Incident)} {
		if n > 0 {
			return nil, invalid("%s are not supported by Steward: it delivers to email, webhook, Logic App and Azure Function receivers.", kind)
		}
	}
	g := &ActionGroup{ID: id, ShortName: *p.GroupShortName, Enabled: *p.Enabled}
	names := map[string]bool{}
	add := func(r Receiver) error {
		if r.Name == "" {
			return invalid("Every receiver needs a name.")
		}
		if names[strings.ToLower(r.Name)] {
			return invalid("The receiver name '%s' is used twice; receiver names must be unique in an action group.", r.Name)
		}
		names[strings.ToLower(r.Name)] = true
		g.Receivers = append(g.Receivers, r)
		return nil
	}
	for _, e := range p.Email {
		if _, err := mail.ParseAddress(e.EmailAddress); err != nil || strings.ContainsAny(e.EmailAddress, "\r\n") {
			return nil, invalid("Email receiver '%s': '%s' is not a valid email address.", e.Name, e.EmailAddress)
		}
		if err := add(Receiver{Kind: ReceiverEmail, Name: e.Name, Email: e.EmailAddress, CommonSchema: e.Common}); err != nil {
			return nil, err
		}
	}
	hooks := func(name, uri string, common, aad bool) error {
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid("Receiver '%s': '%s' is not an http or https URL.", name, uri)
		}
		if aad {
			return invalid("Receiver '%s': secure webhooks (useAadAuth) are not supported by Steward.", name)
		}
		return add(Receiver{Kind: ReceiverWebhook, Name: name, URL: uri, CommonSchema: common})
	}
	for _, w := range p.Webhook {
		if err := hooks(w.Name, w.ServiceURI, w.Common, w.UseAADAuth); err != nil {
			return nil, err
		}
	}
	for _, w := range p.LogicApp {
		if err := hooks(w.Name, w.CallbackURL, w.Common, false); err != nil {
			return nil, err
		}
	}
	for _, w := range p.Function {
		if err := hooks(w.Name, w.HTTPTriggerURL, w.Common, false); err != nil {
			return nil, err
		}
	}
	return g, nil
}
