package kql

import (
	"strings"
	"time"
)

// Calendar windows: activity_counts_metrics, activity_metrics and
// new_activity_metrics take 'week', 'month' or 'year' as their step, the
// windows then being the calendar's (startofweek, startofmonth,
// startofyear), the first one holding Start.

// calendarStep reads argument i as a calendar step name when it is a
// string; ok is false when it is not a string.
func (a *usageArgs) calendarStep(i int) (cal string, ok bool, err error) {
	v, err := a.constant(i, "step")
	if err != nil || !v.ok || v.T != TypeString {
		return "", false, nil
	}
	cal = strings.ToLower(v.s)
	if cal != "week" && cal != "month" && cal != "year" {
		return "", true, errAt(a.args[i], "%s's step must be a timespan or 'week', 'month' or 'year', not '%s'", a.name, v.s)
	}
	if a.in.cols[a.tl].Type != TypeDateTime {
		return "", true, errAt(a.args[i], "%s's calendar step '%s' needs a datetime timeline", a.name, v.s)
	}
	return cal, true, nil
}

// calIndex numbers the calendar window holding t (ticks).
func calIndex(cal string, t int64) int64 {
	tm := ticksToTime(t)
	switch cal {
	case "week":
		// tick 0 (0001-01-01) is a Monday: a week from Sunday on, shifted
		// by a day, is a multiple of seven days
		return floorDiv(t+ticksPerDay, 7*ticksPerDay)
	case "month":
		return int64(tm.Year())*12 + int64(tm.Month()) - 1
	}
	return int64(tm.Year())
}

// calStart is the start (ticks) of the calendar window numbered k.
func calStart(cal string, k int64) int64 {
	switch cal {
	case "week":
		return k*7*ticksPerDay - ticksPerDay
	case "month":
		return timeToTicks(time.Date(int(floorDiv(k, 12)), time.Month(k-12*floorDiv(k, 12)+1), 1, 0, 0, 0, 0, time.UTC))
	}
	return timeToTicks(time.Date(int(k), 1, 1, 0, 0, 0, 0, time.UTC))
}

// index numbers the window holding t, window 0 holding start.
func (w *windowArgs) index(start, t int64) int64 {
	if w.cal != "" {
		return calIndex(w.cal, t) - calIndex(w.cal, start)
	}
	return floorDiv(t-start, w.step)
}

// at is window b's start as a value of the timeline's type.
func (w *windowArgs) at(start, b int64) Value {
	t := start + b*w.step
	if w.cal != "" {
		t = calStart(w.cal, calIndex(w.cal, start)+b)
	}
	return Value{T: w.in.cols[w.tl].Type, ok: true, i: t}
}

// windowCount is the number of windows from start to end, counted against
// the memory budget.
func (w *windowArgs) windowCount(q *qctx, o Node, start, end int64) (int64, error) {
	if w.cal == "" {
		return binCount(q, o, w.name, start, end, w.step)
	}
	if end < start {
		return 0, errAt(o, "%s's end comes before its start", w.name)
	}
	n := w.index(start, end) + 1
	if err := q.gov.grow(w.name+" plugin", n*16); err != nil {
		return 0, err
	}
	return n, nil
}
