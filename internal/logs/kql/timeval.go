package kql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tick lengths: Kusto counts datetimes and timespans in 100 ns ticks.
const (
	ticksPerMilli  int64 = 10_000
	ticksPerSecond int64 = 10_000_000
	ticksPerMinute       = 60 * ticksPerSecond
	ticksPerHour         = 60 * ticksPerMinute
	ticksPerDay          = 24 * ticksPerHour
	// unixEpochTicks is 1970-01-01 in ticks since 0001-01-01.
	unixEpochTicks int64 = 621355968000000000
	maxDateTicks   int64 = 3155378975999999999 // 9999-12-31 23:59:59.9999999
)

// ticksToTime converts datetime ticks to a UTC time.Time.
func ticksToTime(t int64) time.Time {
	u := t - unixEpochTicks
	sec := u / ticksPerSecond
	rem := u % ticksPerSecond
	if rem < 0 {
		rem += ticksPerSecond
		sec--
	}
	return time.Unix(sec, rem*100).UTC()
}

// timeToTicks converts a time.Time to datetime ticks.
func timeToTicks(t time.Time) int64 {
	return unixEpochTicks + t.Unix()*ticksPerSecond + int64(t.Nanosecond())/100
}

func formatDateTime(ticks int64) string {
	t := ticksToTime(ticks)
	frac := (ticks%ticksPerSecond + ticksPerSecond) % ticksPerSecond
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%07dZ", t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), frac)
}

func formatTimeSpan(ticks int64) string {
	var b strings.Builder
	u := uint64(ticks)
	if ticks < 0 {
		b.WriteByte('-')
		u = uint64(-ticks)
	}
	tps := uint64(ticksPerSecond)
	days := u / uint64(ticksPerDay)
	rem := u % uint64(ticksPerDay)
	if days > 0 {
		b.WriteString(strconv.FormatUint(days, 10) + ".")
	}
	h := rem / uint64(ticksPerHour)
	m := rem % uint64(ticksPerHour) / uint64(ticksPerMinute)
	s := rem % uint64(ticksPerMinute) / tps
	f := rem % tps
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if f > 0 {
		fmt.Fprintf(&b, ".%07d", f)
	}
	return b.String()
}

// parseDateTime reads the datetime forms Kusto accepts in literals and
// todatetime: ISO 8601 with a space or T, optional seconds, fraction and
// zone, and a few RFC 1123 forms.
func parseDateTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	i := 0
	num := func(min, max int) (int, bool) {
		j := i
		for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i < min {
			return 0, false
		}
		n, _ := strconv.Atoi(s[i:j])
		i = j
		return n, true
	}
	expect := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	year, ok := num(4, 4)
	if !ok {
		return parseDateTimeRFC(s)
	}
	sep := byte('-')
	if i < len(s) && s[i] == '/' {
		sep = '/'
	}
	month, day := 1, 1
	if expect(sep) {
		if month, ok = num(1, 2); !ok {
			return 0, false
		}
		if expect(sep) {
			if day, ok = num(1, 2); !ok {
				return 0, false
			}
		}
	}
	var hh, mm, ss int
	var frac int64
	if i < len(s) && (s[i] == 'T' || s[i] == ' ') {
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if hh, ok = num(1, 2); !ok {
			return 0, false
		}
		if !expect(':') {
			return 0, false
		}
		if mm, ok = num(1, 2); !ok {
			return 0, false
		}
		if expect(':') {
			if ss, ok = num(1, 2); !ok {
				return 0, false
			}
			if expect('.') {
				j := i
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				digits := s[i:j]
				if len(digits) > 7 {
					digits = digits[:7]
				}
				for len(digits) < 7 {
					digits += "0"
				}
				frac, _ = strconv.ParseInt(digits, 10, 64)
				i = j
			}
		}
	}
	offset := 0
	if i < len(s) {
		rest := strings.TrimSpace(s[i:])
		switch {
		case rest == "Z" || rest == "z" || rest == "" || strings.EqualFold(rest, "UTC") || strings.EqualFold(rest, "GMT"):
		case rest[0] == '+' || rest[0] == '-':
			t, err := time.Parse("-07:00", rest)
			if err != nil {
				if t, err = time.Parse("-0700", rest); err != nil {
					return 0, false
				}
			}
			_, offset = t.Zone()
		default:
			return 0, false
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day {
		return 0, false
	}
	return timeToTicks(t) + frac - int64(offset)*ticksPerSecond, true
}

func parseDateTimeRFC(s string) (int64, bool) {
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, time.RFC850, "2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return timeToTicks(t.UTC()), true
		}
	}
	return 0, false
}

// parseTimeSpan reads a timespan literal body: "1d", "1.5h", "00:10:00",
// "2.01:00:00.5", with an optional sign.
func parseTimeSpan(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = strings.TrimSpace(s[1:])
	}
	var ticks int64
	if !strings.Contains(s, ":") {
		j := 0
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		// a number needs a unit: "1.5" is not a timespan
		// (agent-type-casts-coercion-0014#3)
		unit := strings.ToLower(s[j:])
		per, ok := timespanUnits[unit]
		if !ok || j == 0 {
			return 0, false
		}
		f, err := strconv.ParseFloat(s[:j], 64)
		if err != nil {
			return 0, false
		}
		ticks = int64(f*float64(per) + 0.5)
	} else {
		var days int64
		if dot := strings.IndexByte(s, '.'); dot >= 0 && dot < strings.IndexByte(s, ':') {
			d, err := strconv.ParseInt(s[:dot], 10, 64)
			if err != nil {
				return 0, false
			}
			days = d
			s = s[dot+1:]
		}
		parts := strings.Split(s, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, false
		}
		h, err1 := strconv.ParseInt(parts[0], 10, 64)
		m, err2 := strconv.ParseInt(parts[1], 10, 64)
		if err1 != nil || err2 != nil || m > 59 {
			return 0, false
		}
		var sec, frac int64
		if len(parts) == 3 {
			sp, fp, hasFrac := strings.Cut(parts[2], ".")
			var err error
			if sec, err = strconv.ParseInt(sp, 10, 64); err != nil || sec > 59 {
				return 0, false
			}
			if hasFrac {
				if len(fp) > 7 {
					fp = fp[:7]
				}
				for len(fp) < 7 {
					fp += "0"
				}
				if frac, err = strconv.ParseInt(fp, 10, 64); err != nil {
					return 0, false
				}
			}
		}
		ticks = days*ticksPerDay + h*ticksPerHour + m*ticksPerMinute + sec*ticksPerSecond + frac
	}
	if neg {
		ticks = -ticks
	}
	return ticks, true
}
