package logs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var isoDuration = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration parses the ISO 8601 durations the query API's timespan
// uses (PT12H, P1D, P2DT3H4M, P1W). Years and months are refused: their
// length depends on the date.
func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration", s)
	}
	units := []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d float64
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		f, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, err
		}
		d += f * float64(u)
	}
	if d > float64(100*365*24*time.Hour) {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return time.Duration(d), nil
}

// ParseTimespan turns the query API's timespan (an ISO 8601 duration
// ending now, or an interval start/end, start/duration or duration/end)
// into a Window. An empty timespan is no restriction.
func ParseTimespan(s string, now time.Time) (Window, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Window{}, nil
	}
	a, b, interval := strings.Cut(s, "/")
	if !interval {
		d, err := parseISODuration(s)
		if err != nil {
			return Window{}, err
		}
		return Window{From: Ticks(now.Add(-d)), To: Ticks(now)}, nil
	}
	ta, aTime := parseDateTime(a)
	tb, bTime := parseDateTime(b)
	switch {
	case aTime && bTime:
	case aTime:
		d, err := parseISODuration(b)
		if err != nil {
			return Window{}, err
		}
		tb = ta.Add(d)
	case bTime:
		d, err := parseISODuration(a)
		if err != nil {
			return Window{}, err
		}
		ta = tb.Add(-d)
	default:
		return Window{}, fmt.Errorf("%q is not an ISO 8601 interval", s)
	}
	if tb.Before(ta) {
		return Window{}, fmt.Errorf("the interval %q ends before it starts", s)
	}
	return Window{From: Ticks(ta), To: Ticks(tb)}, nil
}
