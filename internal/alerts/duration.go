package alerts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses the ISO 8601 durations Azure Monitor uses for
// evaluationFrequency, windowSize and the like: PnDTnHnMnS, with weeks
// (PnW) and days; years and months are refused because their length
// varies.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration such as PT5M", orig)
	}
	s = s[1:]
	var total time.Duration
	inTime := false
	num := ""
	units := map[bool]map[byte]time.Duration{
		false: {'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour},
		true:  {'H': time.Hour, 'M': time.Minute, 'S': time.Second},
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 'T':
			if inTime || num != "" {
				return 0, fmt.Errorf("%q is not an ISO 8601 duration", orig)
			}
			inTime = true
		case (c >= '0' && c <= '9') || c == '.':
			num += string(c)
		default:
			unit, ok := units[inTime][c]
			if !ok || num == "" {
				return 0, fmt.Errorf("%q is not an ISO 8601 duration (years and months are not allowed)", orig)
			}
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 || v > 1e6 {
				return 0, fmt.Errorf("%q is not an ISO 8601 duration", orig)
			}
			total += time.Duration(v * float64(unit))
			num = ""
		}
	}
	if num != "" || (inTime && strings.HasSuffix(s, "T")) {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration", orig)
	}
	return total, nil
}

// FormatDuration is the ISO 8601 form of d, as Azure echoes it (PT5M, PT1H,
// P1D).
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dD", days)
		d -= days * 24 * time.Hour
	}
	if d > 0 {
		b.WriteString("T")
		if h := d / time.Hour; h > 0 {
			fmt.Fprintf(&b, "%dH", h)
			d -= h * time.Hour
		}
		if m := d / time.Minute; m > 0 {
			fmt.Fprintf(&b, "%dM", m)
			d -= m * time.Minute
		}
		if d > 0 {
			fmt.Fprintf(&b, "%gS", d.Seconds())
		}
	}
	return b.String()
}
