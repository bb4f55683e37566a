// Package consumption checks Microsoft.Consumption/budgets documents for
// the embedded cloud, which stores them as resources at their scope
// (subscription or resource group). Steward has no cost data: a budget's
// currentSpend stays 0 and its notifications never fire.
package consumption

import (
	"context"
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// TypeBudget is the budget resource type.
const TypeBudget = "Microsoft.Consumption/budgets"

// Limits and enums of the budgets API (Microsoft.Consumption 2021-10-01
// and later).
var (
	timeGrains = []string{"Monthly", "Quarterly", "Annually", "BillingMonth", "BillingQuarter", "BillingAnnual"}
	operators  = []string{"EqualTo", "GreaterThan", "GreaterThanOrEqualTo"}
	thresholds = []string{"Actual", "Forecasted"}
)

const (
	maxNotifications = 5
	maxContacts      = 50
	maxThreshold     = 1000
)

// earliestStart is the earliest start date the API accepts.
var earliestStart = time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC)

func invalid(format string, args ...any) error {
	return arm.Errorf(http.StatusBadRequest, "InvalidBudget", format, args...)
}

// PutBudget validates a budget document and completes its read-only
// parts (currentSpend, a default endDate ten years after the start). It
// has the cloud.PutHook signature.
func PutBudget(_ context.Context, id string, doc, _ map[string]any) error {
	scope := strings.ToLower(id)
	if i := strings.LastIndex(scope, "/providers/"); i >= 0 {
		scope = scope[:i]
	}
	if !strings.HasPrefix(scope, "/subscriptions/") || strings.Count(scope, "/") > 4 {
		return invalid("Budgets are supported at a subscription or resource group scope, not '%s'.", scope)
	}
	p, ok := doc["properties"].(map[string]any)
	if !ok {
		return invalid("The budget needs properties.")
	}
	if c, _ := p["category"].(string); !strings.EqualFold(c, "Cost") {
		return invalid("The budget category '%v' is not supported; use 'Cost'.", p["category"])
	}
	p["category"] = "Cost"
	amount, ok := number(p["amount"])
	if !ok || amount <= 0 {
		return invalid("The budget amount must be a number greater than 0.")
	}
	g, _ := p["timeGrain"].(string)
	if !oneOf(&g, timeGrains) {
		return invalid("The timeGrain '%v' is not valid; allowed: %s.", p["timeGrain"], strings.Join(timeGrains, ", "))
	}
	p["timeGrain"] = g
	if err := timePeriod(p); err != nil {
		return err
	}
	if err := notifications(p); err != nil {
		return err
	}
	if f, ok := p["filter"]; ok && f != nil {
		if _, ok := f.(map[string]any); !ok {
			return invalid("The budget filter must be an object.")
		}
	}
	p["currentSpend"] = map[string]any{"amount": 0, "unit": "USD"}
	delete(p, "forecastSpend")
	return nil
}

func timePeriod(p map[string]any) error {
	tp, ok := p["timePeriod"].(map[string]any)
	if !ok {
		return invalid("The budget needs timePeriod with a startDate.")
	}
	start, err := date(tp["startDate"])
	if err != nil {
		return invalid("The timePeriod startDate '%v' is not a date.", tp["startDate"])
	}
	if start.Day() != 1 || start.Before(earliestStart) {
		return invalid("The timePeriod startDate must be the first day of a month, on or after 2017-06-01.")
	}
	tp["startDate"] = start.Format(time.RFC3339)
	end := start.AddDate(10, 0, 0)
	if v, ok := tp["endDate"]; ok && v != nil && v != "" {
		if end, err = date(v); err != nil {
			return invalid("The timePeriod endDate '%v' is not a date.", v)
		}
		if !end.After(start) {
			return invalid("The timePeriod endDate must be after its startDate.")
		}
	}
	tp["endDate"] = end.Format(time.RFC3339)
	return nil
}

func date(v any) (time.Time, error) {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse("2006-01-02", s)
}

func notifications(p map[string]any) error {
	raw, ok := p["notifications"]
	if !ok || raw == nil {
		return nil
	}
	ns, ok := raw.(map[string]any)
	if !ok {
		return invalid("notifications must be an object of named notifications.")
	}
	if len(ns) > maxNotifications {
		return invalid("A budget has at most %d notifications, not %d.", maxNotifications, len(ns))
	}
	for name, v := range ns {
		n, ok := v.(map[string]any)
		if !ok {
			return invalid("The notification '%s' must be an object.", name)
		}
		if _, ok := n["enabled"].(bool); !ok {
			return invalid("The notification '%s' needs enabled (true or false).", name)
		}
		op, _ := n["operator"].(string)
		if !oneOf(&op, operators) {
			return invalid("The notification '%s' has operator '%v'; allowed: %s.", name, n["operator"], strings.Join(operators, ", "))
		}
		n["operator"] = op
		if th, ok := number(n["threshold"]); !ok || th <= 0 || th > maxThreshold {
			return invalid("The notification '%s' needs a threshold greater than 0 and at most %d (percent of the amount).", name, maxThreshold)
		}
		tt, _ := n["thresholdType"].(string)
		if tt == "" {
			tt = "Actual"
		}
		if !oneOf(&tt, thresholds) {
			return invalid("The notification '%s' has thresholdType '%s'; allowed: %s.", name, tt, strings.Join(thresholds, ", "))
		}
		n["thresholdType"] = tt
		emails, ok := n["contactEmails"].([]any)
		if !ok {
			return invalid("The notification '%s' needs contactEmails.", name)
		}
		groups, _ := n["contactGroups"].([]any)
		roles, _ := n["contactRoles"].([]any)
		if len(emails)+len(groups)+len(roles) == 0 {
			return invalid("The notification '%s' needs at least one contact email, group or role.", name)
		}
		if len(emails) > maxContacts {
			return invalid("The notification '%s' has more than %d contact emails.", name, maxContacts)
		}
		for _, e := range emails {
			s, _ := e.(string)
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				return invalid("The notification '%s' has the contact email '%v', which is not an email address.", name, e)
			}
		}
	}
	return nil
}

// number reads a JSON number, decoded as float64 or json.Number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func oneOf(s *string, allowed []string) bool {
	for _, a := range allowed {
		if strings.EqualFold(*s, a) {
			*s = a
			return true
		}
	}
	return false
}
