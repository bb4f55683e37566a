package vault

import (
	"strconv"
	"time"
)

// isoDuration is an ISO 8601 duration as rotation policies and lifetime
// actions use it (P90D, P2Y, P1Y6M, PT12H): calendar parts and a clock
// part, applied with AddDate and Add.
type isoDuration struct {
	years, months, days int
	clock               time.Duration
}

// parseISODuration reads PnYnMnWnDTnHnMnS. It fails on anything else.
func parseISODuration(s string) (isoDuration, bool) {
	var d isoDuration
	if len(s) < 3 || len(s) > 64 || s[0] != 'P' {
		return d, false
	}
	num, inTime, any := "", false, false
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			continue
		case c == 'T' && !inTime && num == "":
			inTime = true
			continue
		}
		if num == "" {
			return d, false
		}
		n, err := strconv.Atoi(num)
		if err != nil || n > 100000 {
			return d, false
		}
		num, any = "", true
		switch {
		case !inTime && c == 'Y':
			d.years += n
		case !inTime && c == 'M':
			d.months += n
		case !inTime && c == 'W':
			d.days += 7 * n
		case !inTime && c == 'D':
			d.days += n
		case inTime && c == 'H':
			d.clock += time.Duration(n) * time.Hour
		case inTime && c == 'M':
			d.clock += time.Duration(n) * time.Minute
		case inTime && c == 'S':
			d.clock += time.Duration(n) * time.Second
		default:
			return d, false
		}
	}
	return d, any && num == ""
}

// after returns t plus the duration.
func (d isoDuration) after(t time.Time) time.Time {
	return t.AddDate(d.years, d.months, d.days).Add(d.clock)
}

// before returns t minus the duration.
func (d isoDuration) before(t time.Time) time.Time {
	return t.AddDate(-d.years, -d.months, -d.days).Add(-d.clock)
}
