package armexpr

import (
	"strconv"
	"strings"
	"time"
)

// zoneKind records how a parsed date-time gave its time zone, because the
// default output repeats it: "Z" for UTC and for no zone, the offset
// otherwise.
type zoneKind int

const (
	zoneNone zoneKind = iota
	zoneUTC
	zoneOffset
)

// dateTime is a parsed ARM date-time with what is needed to print it back
// in the shape it came in.
type dateTime struct {
	t          time.Time
	fracDigits int
	zone       zoneKind
}

// parseDateTime reads ISO 8601 date-times as ARM's functions accept them:
// "T" or a space between date and time, optional seconds and fraction,
// and "Z", an offset or no zone (read as UTC). A date alone is midnight.
func parseDateTime(s string) (dateTime, bool) {
	var d dateTime
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return d, false
	}
	year, ok1 := digitsAt(s, 0, 4)
	month, ok2 := digitsAt(s, 5, 2)
	day, ok3 := digitsAt(s, 8, 2)
	if !ok1 || !ok2 || !ok3 {
		return d, false
	}
	var hour, minute, sec, nanos int
	rest := s[10:]
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' {
			return d, false
		}
		rest = rest[1:]
		var ok bool
		if hour, ok = digitsAt(rest, 0, 2); !ok || len(rest) < 5 || rest[2] != ':' {
			return d, false
		}
		if minute, ok = digitsAt(rest, 3, 2); !ok {
			return d, false
		}
		rest = rest[5:]
		if strings.HasPrefix(rest, ":") {
			if sec, ok = digitsAt(rest, 1, 2); !ok {
				return d, false
			}
			rest = rest[3:]
			if strings.HasPrefix(rest, ".") {
				n := 1
				for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
					n++
				}
				frac := rest[1:n]
				if frac == "" || len(frac) > 9 {
					return d, false
				}
				d.fracDigits = len(frac)
				nanos, _ = strconv.Atoi((frac + "000000000")[:9])
				rest = rest[n:]
			}
		}
	}
	loc := time.UTC
	switch {
	case rest == "":
		d.zone = zoneNone
	case rest == "Z" || rest == "z":
		d.zone = zoneUTC
	case rest[0] == '+' || rest[0] == '-':
		off, ok := parseOffset(rest)
		if !ok {
			return d, false
		}
		if off == 0 {
			d.zone = zoneUTC
		} else {
			d.zone = zoneOffset
			loc = time.FixedZone("", off)
		}
	default:
		return d, false
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return d, false
	}
	d.t = time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc)
	if d.t.Day() != day {
		return d, false // 31 April and the like
	}
	return d, true
}

// parseOffset reads "+hh:mm", "+hhmm" or "+hh" as seconds east of UTC.
func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = strings.Replace(s[1:], ":", "", 1)
	if len(s) == 2 {
		s += "00"
	}
	h, ok1 := digitsAt(s, 0, 2)
	m, ok2 := digitsAt(s, 2, 2)
	if len(s) != 4 || !ok1 || !ok2 || h > 14 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

func digitsAt(s string, at, n int) (int, bool) {
	if at+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[at : at+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// String prints d in ISO 8601 with the fraction digits and zone it was
// parsed with ("Z" when it had none).
func (d dateTime) String() string {
	var b strings.Builder
	b.WriteString(d.t.Format("2006-01-02T15:04:05"))
	if d.fracDigits > 0 {
		frac := strconv.Itoa(d.t.Nanosecond() + 1e9)[1:]
		b.WriteByte('.')
		b.WriteString(frac[:d.fracDigits])
	}
	if d.zone == zoneOffset {
		b.WriteString(d.t.Format("-07:00"))
	} else {
		b.WriteByte('Z')
	}
	return b.String()
}

// maxDurationSeconds bounds ISO 8601 durations to about 10,000 years.
const maxDurationSeconds = 10000 * 366 * 86400

// parseDuration reads an ISO 8601 duration such as "P1DT2H30M" or "-P1D".
// Years count 365 days and months 30, as the conformance cases expect.
func parseDuration(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return 0, false
	}
	s = s[1:]
	var total float64
	inTime, any := false, false
	for s != "" {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return 0, false
			}
			inTime = true
			s = s[1:]
			continue
		}
		n := 0
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.' || s[n] == ',') {
			n++
		}
		if n == 0 || n == len(s) {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.Replace(s[:n], ",", ".", 1), 64)
		if err != nil {
			return 0, false
		}
		var unit float64
		switch c := s[n] | 0x20; {
		case !inTime && c == 'y':
			unit = 365 * 86400
		case !inTime && c == 'm':
			unit = 30 * 86400
		case !inTime && c == 'w':
			unit = 7 * 86400
		case !inTime && c == 'd':
			unit = 86400
		case inTime && c == 'h':
			unit = 3600
		case inTime && c == 'm':
			unit = 60
		case inTime && c == 's':
			unit = 1
		default:
			return 0, false
		}
		total += v * unit
		any = true
		s = s[n+1:]
	}
	if !any || total > maxDurationSeconds {
		return 0, false
	}
	if neg {
		total = -total
	}
	return time.Duration(total * float64(time.Second)), true
}
