package alerts

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/smtp"
	"strings"
	"time"
)

// retryDelays is the action groups' webhook retry schedule: after a
// failure, tries again after each delay in turn (at most five retries).
var retryDelays = []time.Duration{5 * time.Second, 20 * time.Second, 5 * time.Second, 40 * time.Second, 5 * time.Second}

// suppressFor is how long an endpoint whose every retry failed is left
// alone by all action groups.
const suppressFor = 15 * time.Minute

// IdempotencyHeader carries a notification's stable key on every attempt,
// so that a receiver can drop a repeat (Steward's addition; Azure sends no
// such header).
const IdempotencyHeader = "Idempotency-Key"

// Delivery is one notification to one receiver, kept in the outbox until
// it is delivered or given up.
type Delivery struct {
	// Key is stable across attempts: alert, condition, group and receiver.
	Key      string    `json:"key"`
	Kind     string    `json:"kind"`
	URL      string    `json:"url,omitempty"`
	Email    string    `json:"email,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Payload  []byte    `json:"payload"`
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next"`
	// State is pending, delivered or failed.
	State     string    `json:"state"`
	LastError string    `json:"lastError,omitempty"`
	Delivered time.Time `json:"delivered,omitzero"`
}

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// ErrNoMailer is the failure of an email receiver when no SMTP server is
// configured; it is not retried.
var ErrNoMailer = errors.New("no SMTP server is configured (serve --smtp-addr and --smtp-from)")

// Mailer sends an email.
type Mailer interface {
	Send(ctx context.Context, to, subject string, body []byte) error
}

// SMTPMailer sends through an SMTP server (STARTTLS when the server offers
// it; PLAIN auth when a user is set).
type SMTPMailer struct {
	Addr, From, Username, Password string
}

// Send implements Mailer.
func (m SMTPMailer) Send(ctx context.Context, to, subject string, body []byte) error {
	if m.Addr == "" || m.From == "" {
		return ErrNoMailer
	}
	var auth smtp.Auth
	if m.Username != "" {
		host, _, _ := strings.Cut(m.Addr, ":")
		auth = smtp.PlainAuth("", m.Username, m.Password, host)
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
		m.From, to, mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(subject)))
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n")
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(m.Addr, auth, m.From, []string{to}, msg.Bytes()) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt tries one delivery once. retry says whether a failure may be
// retried (transport errors, 408, 429, 503, 504, as action groups retry).
func (s *Service) attempt(ctx context.Context, d *Delivery) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if d.Kind == ReceiverEmail {
		if err := s.opts.Mailer.Send(ctx, d.Email, d.Subject, d.Payload); err != nil {
			return !errors.Is(err, ErrNoMailer), err
		}
		return false, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyHeader, d.Key)
	resp, err := s.opts.HTTP.Do(req)
	if err != nil {
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	return false, fmt.Errorf("the receiver answered %d", resp.StatusCode)
}

// emailSubject is the subject line of an alert email, in Azure Monitor's
// form ("Fired:Sev3 Azure Monitor Alert rule on target").
func emailSubject(n *Notification) string {
	return fmt.Sprintf("%s:Sev%d Azure Monitor Alert %s on %s", n.Event.Condition, n.Rule.Severity, n.Rule.Name, lastSegment(n.target()))
}

// emailBody is a plain-text alert email: a summary people read, then the
// payload for tools.
func emailBody(n *Notification, payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Azure Monitor alert %s: %s\n\n", strings.ToLower(n.Event.Condition), n.Rule.Name)
	fmt.Fprintf(&b, "Severity:    Sev%d\nCondition:   %s\nTarget:      %s\nWindow:      %s to %s\n",
		n.Rule.Severity, n.Event.Condition, n.target(), n.WindowStart.UTC().Format(time.RFC3339), n.WindowEnd.UTC().Format(time.RFC3339))
	for _, d := range n.Event.Series.Dimensions {
		fmt.Fprintf(&b, "Dimension:   %s = %s\n", d.Name, d.Value)
	}
	if n.Rule.Description != "" {
		fmt.Fprintf(&b, "Description: %s\n", n.Rule.Description)
	}
	b.WriteString("\nPayload:\n")
	var pretty bytes.Buffer
	if json.Indent(&pretty, payload, "", "  ") == nil {
		b.Write(pretty.Bytes())
	} else {
		b.Write(payload)
	}
	b.WriteString("\n")
	return b.Bytes()
}
