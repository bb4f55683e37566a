package kql

import (
	"fmt"
	"strings"
)

// formatCheck rejects a constant format string with letters other than the
// supported specifiers, or with '%', as Kusto does at compile time.
func formatCheck(letters string) func([]cexpr) (Type, bool) {
	return func(a []cexpr) (Type, bool) {
		if !a[1].konst {
			return TypeString, true
		}
		f := a[1].f(nil).s
		quoted := byte(0)
		for i := 0; i < len(f); i++ {
			c := f[i]
			switch {
			case quoted != 0:
				if c == quoted {
					quoted = 0
				}
			case c == '\'' || c == '"':
				quoted = c
			case c == '\\':
				i++
			case c == '%':
				return TypeUnknown, false
			case isLetterByte(c) && !strings.ContainsRune(letters, rune(c)):
				return TypeUnknown, false
			}
		}
		return TypeString, true
	}
}

// formatDateTimeWith renders a datetime with .NET-style format specifiers
// (yyyy, MM, dd, HH, hh, mm, ss, f..., tt) as format_datetime does.
func formatDateTimeWith(ticks int64, f string) string {
	t := ticksToTime(ticks)
	frac := (ticks%ticksPerSecond + ticksPerSecond) % ticksPerSecond
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		// runs longer than two of d, M, H, h, m, s are read as repeated pairs
		if n > 2 && strings.IndexByte("dMHhms", c) >= 0 {
			n = 2
		}
		switch c {
		case 'y':
			if n <= 2 {
				fmt.Fprintf(&b, "%02d", t.Year()%100)
			} else {
				fmt.Fprintf(&b, "%0*d", n, t.Year())
			}
		case 'M':
			fmt.Fprintf(&b, "%0*d", min(n, 2), int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Day())
		case 'H':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Hour())
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%0*d", min(n, 2), h)
		case 'm':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Minute())
		case 's':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Second())
		case 'f', 'F':
			digits := fmt.Sprintf("%07d", frac)[:min(n, 7)]
			if c == 'F' {
				digits = strings.TrimRight(digits, "0")
			}
			b.WriteString(digits)
		case 't':
			if t.Hour() < 12 {
				b.WriteString("AM"[:min(n, 2)])
			} else {
				b.WriteString("PM"[:min(n, 2)])
			}
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String()
}

// formatTimeSpanWith renders a timespan with d, h/H, m, s and f specifiers
// as format_timespan does.
func formatTimeSpanWith(ticks int64, f string) string {
	neg := ticks < 0
	if neg {
		ticks = -ticks
	}
	days := ticks / ticksPerDay
	h := ticks % ticksPerDay / ticksPerHour
	m := ticks % ticksPerHour / ticksPerMinute
	s := ticks % ticksPerMinute / ticksPerSecond
	frac := ticks % ticksPerSecond
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		switch c {
		case 'd':
			fmt.Fprintf(&b, "%0*d", n, days)
		case 'h', 'H':
			fmt.Fprintf(&b, "%0*d", min(n, 2), h)
		case 'm':
			fmt.Fprintf(&b, "%0*d", min(n, 2), m)
		case 's':
			fmt.Fprintf(&b, "%0*d", min(n, 2), s)
		case 'f', 'F':
			digits := fmt.Sprintf("%07d", frac)[:min(n, 7)]
			if c == 'F' {
				digits = strings.TrimRight(digits, "0")
			}
			b.WriteString(digits)
		case '\'', '"':
			end := strings.IndexByte(f[i+1:], c)
			if end < 0 {
				end = len(f) - i - 1
			}
			b.WriteString(f[i+1 : i+1+end])
			n = end + 2
		case '\\':
			if i+1 < len(f) {
				b.WriteByte(f[i+1])
			}
			n = 2
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String()
}
