package alerts

import "time"

// Monitor conditions of an alert (set by the system).
const (
	Fired    = "Fired"
	Resolved = "Resolved"
)

// SeriesState is what the evaluator remembers of one dimension
// combination of one rule between evaluations.
type SeriesState struct {
	Key        string           `json:"key"`
	Dimensions []DimensionValue `json:"dimensions,omitempty"`
	ResourceID string           `json:"resourceId,omitempty"`
	// Condition is Fired while a stateful alert is open, Resolved after.
	Condition string `json:"condition"`
	// AlertID is the open (or last) alert instance of the series.
	AlertID string    `json:"alertId,omitempty"`
	FiredAt time.Time `json:"firedAt,omitzero"`
	// LastViolation is the last evaluation at which the condition was met.
	LastViolation time.Time `json:"lastViolation,omitzero"`
	// MutedUntil suppresses the actions of a stateless rule.
	MutedUntil time.Time `json:"mutedUntil,omitzero"`
	Value      float64   `json:"value"`
}

// Event is a transition that raises a notification: an alert fired or
// resolved.
type Event struct {
	Condition string
	AlertID   string
	Series    Series
	// FiredAt and ResolvedAt are the alert's times.
	FiredAt, ResolvedAt time.Time
	// Muted events update the alert but send no actions.
	Muted bool
}

// Step is the state machine of one series at one evaluation: prev is the
// series' state before (nil for a new series), s its measurement now (nil
// when the series returned no data, which never violates), newID makes an
// alert ID. It returns the new state (nil to forget the series) and the
// event to notify, if any.
//
// Stateful rules fire once when the condition is met and resolve when it
// has not been met for the rule's ResolveAfter; stateless rules fire at
// every evaluation that meets it, with actions muted for Mute after each
// notification.
func Step(r *Rule, prev *SeriesState, s *Series, now time.Time, newID func() string) (*SeriesState, *Event) {
	violating := s != nil && s.Violating
	st := prev
	if st == nil {
		if !violating {
			return nil, nil
		}
		st = &SeriesState{Key: s.Key, Dimensions: s.Dimensions, ResourceID: s.ResourceID}
	} else {
		c := *prev
		st = &c
	}
	if s != nil && !isNaN(s.Value) {
		st.Value = s.Value
	}
	if !r.Stateful {
		if !violating {
			if now.After(st.MutedUntil) {
				return nil, nil // nothing left to remember
			}
			return st, nil
		}
		st.Condition, st.AlertID, st.FiredAt, st.LastViolation = Fired, newID(), now, now
		ev := &Event{Condition: Fired, AlertID: st.AlertID, Series: *s, FiredAt: now}
		if now.Before(st.MutedUntil) {
			ev.Muted = true
		} else if r.Mute > 0 {
			st.MutedUntil = now.Add(r.Mute)
		}
		return st, ev
	}
	switch {
	case violating && st.Condition != Fired:
		st.Condition, st.AlertID, st.FiredAt, st.LastViolation = Fired, newID(), now, now
		return st, &Event{Condition: Fired, AlertID: st.AlertID, Series: *s, FiredAt: now}
	case violating:
		st.LastViolation = now
		return st, nil
	case st.Condition == Fired && r.ResolveAfter > 0 && now.Sub(st.LastViolation) >= r.ResolveAfter:
		st.Condition = Resolved
		ser := Series{Key: st.Key, Dimensions: st.Dimensions, ResourceID: st.ResourceID, Value: st.Value}
		if s != nil {
			ser = *s
		}
		return st, &Event{Condition: Resolved, AlertID: st.AlertID, Series: ser, FiredAt: st.FiredAt, ResolvedAt: now}
	case st.Condition == Fired:
		return st, nil
	default:
		return nil, nil // resolved and quiet: forget it
	}
}

func isNaN(f float64) bool { return f != f }
