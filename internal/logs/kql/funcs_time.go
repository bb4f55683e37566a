package kql

import (
	"math"
	"strings"
	"time"
)

func dtArg(v []Value, i int) (time.Time, bool) {
	x := scalarOf(v[i])
	if x.T == TypeString {
		x = toDateTimeValue(x)
	}
	if x.IsNull() || x.T != TypeDateTime {
		return time.Time{}, false
	}
	return ticksToTime(x.i), true
}

// dtFn builds a function of one datetime (and an optional integer offset)
// returning a datetime.
func dtFn(f func(t time.Time, off int) time.Time) fnImpl {
	return fixed(1, 2, ret(TypeDateTime), func(_ Type, v []Value) Value {
		t, ok := dtArg(v, 0)
		if !ok {
			return Null(TypeDateTime)
		}
		off, ok := intArg(v, 1, 0)
		if !ok {
			return Null(TypeDateTime)
		}
		frac := int64(0)
		r := f(t, int(off))
		return DateTime(timeToTicks(r) + frac)
	})
}

// endOf turns a start-of function into the matching end-of one: the next
// period's start minus one tick.
func endOf(start func(t time.Time, off int) time.Time) func(t time.Time, off int) time.Time {
	return func(t time.Time, off int) time.Time {
		return start(t, off+1).Add(-100 * time.Nanosecond)
	}
}

func startOfDay(t time.Time, off int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, off)
}

func startOfWeek(t time.Time, off int) time.Time {
	d := startOfDay(t, 0)
	return d.AddDate(0, 0, -int(d.Weekday())+7*off)
}

func startOfMonth(t time.Time, off int) time.Time {
	return time.Date(t.Year(), t.Month()+time.Month(off), 1, 0, 0, 0, 0, time.UTC)
}

func startOfYear(t time.Time, off int) time.Time {
	return time.Date(t.Year()+off, 1, 1, 0, 0, 0, 0, time.UTC)
}

func dtPart(f func(t time.Time) int64) fnImpl {
	return fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value {
		t, ok := dtArg(v, 0)
		if !ok {
			return Null(TypeLong)
		}
		return Long(f(t))
	})
}

func init() {
	register(dtFn(startOfDay), "startofday")
	register(dtFn(startOfWeek), "startofweek")
	register(dtFn(startOfMonth), "startofmonth")
	register(dtFn(startOfYear), "startofyear")
	register(dtFn(endOf(startOfDay)), "endofday")
	register(dtFn(endOf(startOfWeek)), "endofweek")
	register(dtFn(endOf(startOfMonth)), "endofmonth")
	register(dtFn(endOf(startOfYear)), "endofyear")
	register(dtPart(func(t time.Time) int64 { return int64(t.Year()) }), "getyear")
	register(dtPart(func(t time.Time) int64 { return int64(t.Month()) }), "getmonth", "monthofyear")
	register(dtPart(func(t time.Time) int64 { return int64(t.Day()) }), "dayofmonth")
	register(dtPart(func(t time.Time) int64 { return int64(t.YearDay()) }), "dayofyear")
	register(dtPart(func(t time.Time) int64 { return int64(t.Hour()) }), "hourofday")
	register(dtPart(func(t time.Time) int64 { _, w := t.ISOWeek(); return int64(w) }), "week_of_year", "weekofyear")
	register(fixed(1, 1, ret(TypeTimeSpan), func(_ Type, v []Value) Value {
		t, ok := dtArg(v, 0)
		if !ok {
			return Null(TypeTimeSpan)
		}
		// Kusto computes the day within its week and returns null when that
		// week ends after 9999-12-31
		start := timeToTicks(startOfDay(t, 0)) - int64(t.Weekday())*ticksPerDay
		if start+7*ticksPerDay > maxDateTicks {
			return Null(TypeTimeSpan)
		}
		return TimeSpan(int64(t.Weekday()) * ticksPerDay)
	}), "dayofweek")
	register(fixed(3, 3, func(a []cexpr) (Type, bool) {
		// the conformance data types datetime_diff('week', ...) as real
		if a[0].konst && strings.EqualFold(a[0].f(nil).s, "week") {
			return TypeReal, true
		}
		return TypeLong, true
	}, func(t Type, v []Value) Value {
		a, ok1 := dtArg(v, 1)
		b, ok2 := dtArg(v, 2)
		if !ok1 || !ok2 {
			return Null(t)
		}
		n, ok := datetimeDiff(strings.ToLower(str(v, 0)), a, b, scalarOf(v[1]).i, scalarOf(v[2]).i)
		if !ok {
			return Null(t)
		}
		if t == TypeReal {
			return Real(float64(n))
		}
		return Long(n)
	}), "datetime_diff")
	register(fixed(3, 3, ret(TypeDateTime), func(_ Type, v []Value) Value {
		t, ok := dtArg(v, 2)
		n, ok2 := intArg(v, 1, 0)
		if !ok || !ok2 {
			return Null(TypeDateTime)
		}
		ticks := scalarOf(v[2]).i
		switch strings.ToLower(str(v, 0)) {
		case "year":
			return dateChecked(timeToTicks(addMonths(t, 12*int(n))))
		case "quarter":
			return dateChecked(timeToTicks(addMonths(t, 3*int(n))))
		case "month":
			return dateChecked(timeToTicks(addMonths(t, int(n))))
		case "week":
			return dateChecked(ticks + n*7*ticksPerDay)
		case "day":
			return dateChecked(ticks + n*ticksPerDay)
		case "hour":
			return dateChecked(ticks + n*ticksPerHour)
		case "minute":
			return dateChecked(ticks + n*ticksPerMinute)
		case "second":
			return dateChecked(ticks + n*ticksPerSecond)
		case "millisecond":
			return dateChecked(ticks + n*ticksPerMilli)
		case "microsecond":
			return dateChecked(ticks + n*10)
		case "nanosecond":
			return dateChecked(ticks + n/100)
		}
		return Null(TypeDateTime)
	}), "datetime_add")
	register(fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		t, ok := dtArg(v, 1)
		if !ok {
			return Null(TypeLong)
		}
		ticks := scalarOf(v[1]).i
		switch strings.ToLower(str(v, 0)) {
		case "year":
			return Long(int64(t.Year()))
		case "quarter":
			return Long(int64((t.Month()-1)/3 + 1))
		case "month":
			return Long(int64(t.Month()))
		case "week_of_year", "weekofyear":
			_, w := t.ISOWeek()
			return Long(int64(w))
		case "day":
			return Long(int64(t.Day()))
		case "dayofyear":
			return Long(int64(t.YearDay()))
		case "hour":
			return Long(int64(t.Hour()))
		case "minute":
			return Long(int64(t.Minute()))
		case "second":
			return Long(int64(t.Second()))
		case "millisecond":
			return Long(ticks % ticksPerSecond / ticksPerMilli)
		case "microsecond":
			return Long(ticks % ticksPerSecond / 10)
		case "nanosecond":
			return Long(ticks % ticksPerSecond * 100)
		}
		return Null(TypeLong)
	}), "datetime_part")
	register(fixed(3, 7, ret(TypeDateTime), func(_ Type, v []Value) Value {
		var p [7]int64
		for i := range v {
			if i == 5 {
				x := scalarOf(v[i])
				if x.IsNull() {
					return Null(TypeDateTime)
				}
				sec := x.AsReal()
				p[5] = int64(sec)
				p[6] = int64(math.Round((sec - math.Floor(sec)) * 1e7))
				continue
			}
			n, ok := intArg(v, i, 0)
			if !ok {
				return Null(TypeDateTime)
			}
			p[i] = n
		}
		if p[1] < 1 || p[1] > 12 || p[2] < 1 || p[2] > 31 || p[3] > 23 || p[4] > 59 || p[5] > 59 {
			return Null(TypeDateTime)
		}
		t := time.Date(int(p[0]), time.Month(p[1]), int(p[2]), int(p[3]), int(p[4]), int(p[5]), 0, time.UTC)
		if t.Day() != int(p[2]) {
			return Null(TypeDateTime)
		}
		return DateTime(timeToTicks(t) + p[6])
	}), "make_datetime")
	register(fixed(2, 4, ret(TypeTimeSpan), func(_ Type, v []Value) Value {
		var p []float64
		for i := range v {
			x := scalarOf(v[i])
			if x.IsNull() {
				return Null(TypeTimeSpan)
			}
			p = append(p, x.AsReal())
		}
		for len(p) < 4 {
			p = append([]float64{0}, p...)
		}
		if len(v) == 2 {
			p = []float64{0, p[2], p[3], 0}
		}
		if p[0] < 0 || p[1] < 0 || p[1] > 23 || p[2] < 0 || p[2] > 59 || p[3] < 0 || p[3] >= 60 {
			return Null(TypeTimeSpan)
		}
		t := p[0]*float64(ticksPerDay) + p[1]*float64(ticksPerHour) + p[2]*float64(ticksPerMinute) + p[3]*float64(ticksPerSecond)
		return TimeSpan(int64(math.Round(t)))
	}), "make_timespan")
	register(fixed(2, 2, formatCheck("dfFhHmMsyt"), func(_ Type, v []Value) Value {
		x := scalarOf(v[0])
		if x.IsNull() || x.T != TypeDateTime {
			return String("")
		}
		return String(formatDateTimeWith(x.i, str(v, 1)))
	}), "format_datetime")
	register(fixed(2, 2, formatCheck("dfFhHms"), func(_ Type, v []Value) Value {
		x := scalarOf(v[0])
		if x.IsNull() || x.T != TypeTimeSpan {
			return String("")
		}
		return String(formatTimeSpanWith(x.i, str(v, 1)))
	}), "format_timespan")
	unix := func(per float64) fnImpl {
		return fixed(1, 1, ret(TypeDateTime), func(_ Type, v []Value) Value {
			x := scalarOf(v[0])
			if x.IsNull() {
				return Null(TypeDateTime)
			}
			return DateTime(unixEpochTicks + int64(x.AsReal()*per))
		})
	}
	register(unix(float64(ticksPerSecond)), "unixtime_seconds_todatetime")
	register(unix(float64(ticksPerMilli)), "unixtime_milliseconds_todatetime")
	register(unix(10), "unixtime_microseconds_todatetime")
	register(unix(0.01), "unixtime_nanoseconds_todatetime")
}

// addMonths adds calendar months, clamping to the last day of the month.
func addMonths(t time.Time, n int) time.Time {
	y, m := t.Year(), int(t.Month())-1+n
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	last := time.Date(y, time.Month(m+2), 0, 0, 0, 0, 0, time.UTC).Day()
	d := t.Day()
	if d > last {
		d = last
	}
	return time.Date(y, time.Month(m+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// datetimeDiff counts the period boundaries between b and a (a - b).
func datetimeDiff(period string, a, b time.Time, at, bt int64) (int64, bool) {
	switch period {
	case "year":
		return int64(a.Year() - b.Year()), true
	case "quarter":
		return int64((a.Year()*4 + (int(a.Month())-1)/3) - (b.Year()*4 + (int(b.Month())-1)/3)), true
	case "month":
		return int64((a.Year()*12 + int(a.Month())) - (b.Year()*12 + int(b.Month()))), true
	case "week":
		sa, sb := timeToTicks(startOfWeek(a, 0)), timeToTicks(startOfWeek(b, 0))
		return (sa - sb) / (7 * ticksPerDay), true
	case "day":
		return floorDiv(at, ticksPerDay) - floorDiv(bt, ticksPerDay), true
	case "hour":
		return floorDiv(at, ticksPerHour) - floorDiv(bt, ticksPerHour), true
	case "minute":
		return floorDiv(at, ticksPerMinute) - floorDiv(bt, ticksPerMinute), true
	case "second":
		return floorDiv(at, ticksPerSecond) - floorDiv(bt, ticksPerSecond), true
	case "millisecond":
		return floorDiv(at, ticksPerMilli) - floorDiv(bt, ticksPerMilli), true
	case "microsecond":
		return floorDiv(at, 10) - floorDiv(bt, 10), true
	case "nanosecond":
		return (at - bt) * 100, true
	}
	return 0, false
}
