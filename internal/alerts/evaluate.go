package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Table is a query's primary result, as the query API returns it.
type Table struct {
	Columns []Column
	Rows    [][]any
}

// Column is one column of a Table: its name and Kusto type (string, long,
// real, datetime, bool, dynamic, ...).
type Column struct {
	Name, Type string
}

// DimensionValue is one dimension of a series: a column and its value.
type DimensionValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Series is the measurement of one dimension combination in one
// evaluation.
type Series struct {
	// Key identifies the combination across evaluations.
	Key        string
	Dimensions []DimensionValue
	// ResourceID is the value of the rule's resourceIdColumn, when it has
	// one: the alert's target.
	ResourceID string
	// Value is the measure of the latest period that had data (metricValue
	// in the payload).
	Value float64
	// Failing is how many of the evaluated periods violate the threshold;
	// Violating says whether that reaches minFailingPeriodsToAlert.
	Failing   int
	Violating bool
}

// Measure aggregates a query result into the rule's series, as Azure
// Monitor does for log search alerts: rows are split by the dimension
// columns (Include/Exclude filters applied), measured per period of
// windowSize (row count, or the aggregate of metricMeasureColumn), and
// compared with the threshold. With one evaluation period the whole result
// is one period; with several, rows fall into periods by their
// TimeGenerated (or first datetime) column, counting back from end.
func Measure(r *Rule, t *Table, end time.Time) ([]Series, error) {
	col := map[string]int{}
	for i, c := range t.Columns {
		col[strings.ToLower(c.Name)] = i
	}
	index := func(name string) (int, error) {
		i, ok := col[strings.ToLower(name)]
		if !ok {
			return 0, fmt.Errorf("the query result has no column '%s'", name)
		}
		return i, nil
	}
	dims := make([]int, len(r.Dimensions))
	for i, d := range r.Dimensions {
		var err error
		if dims[i], err = index(d.Name); err != nil {
			return nil, fmt.Errorf("dimension: %w", err)
		}
	}
	resCol := -1
	if r.ResourceIDColumn != "" {
		var err error
		if resCol, err = index(r.ResourceIDColumn); err != nil {
			return nil, fmt.Errorf("resourceIdColumn: %w", err)
		}
	}
	measure := -1
	if r.Aggregation != AggCount {
		var err error
		if measure, err = index(r.MeasureColumn); err != nil {
			return nil, fmt.Errorf("metricMeasureColumn: %w", err)
		}
	}
	timeCol := -1
	if r.Periods > 1 {
		if i, ok := col["timegenerated"]; ok {
			timeCol = i
		} else {
			for i, c := range t.Columns {
				if strings.EqualFold(c.Type, "datetime") {
					timeCol = i
					break
				}
			}
		}
		if timeCol < 0 {
			return nil, fmt.Errorf("evaluating %d periods needs a datetime column (TimeGenerated) in the query result", r.Periods)
		}
	}
	start := end.Add(-time.Duration(r.Periods) * r.Window)

	type acc struct {
		series Series
		count  []int
		sum    []float64
		min    []float64
		max    []float64
	}
	bySeries := map[string]*acc{}
	var order []string
	for _, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return nil, fmt.Errorf("a result row has %d values for %d columns", len(row), len(t.Columns))
		}
		dv := make([]DimensionValue, len(dims))
		keep := true
		for i, ci := range dims {
			v := text(row[ci])
			if !r.Dimensions[i].admits(v) {
				keep = false
				break
			}
			dv[i] = DimensionValue{Name: r.Dimensions[i].Name, Value: v}
		}
		if !keep {
			continue
		}
		res := ""
		if resCol >= 0 {
			res = text(row[resCol])
		}
		period := 0
		if timeCol >= 0 {
			ts, ok := timeOf(row[timeCol])
			if !ok || ts.Before(start) || !ts.Before(end) {
				continue
			}
			period = int(ts.Sub(start) / r.Window)
			if period >= r.Periods {
				period = r.Periods - 1
			}
		}
		key := seriesKey(dv, res)
		a := bySeries[key]
		if a == nil {
			a = &acc{series: Series{Key: key, Dimensions: dv, ResourceID: res},
				count: make([]int, r.Periods), sum: make([]float64, r.Periods),
				min: make([]float64, r.Periods), max: make([]float64, r.Periods)}
			bySeries[key] = a
			order = append(order, key)
		}
		if measure >= 0 {
			v, ok := number(row[measure])
			if !ok {
				return nil, fmt.Errorf("metricMeasureColumn '%s' holds a value that is not a number", r.MeasureColumn)
			}
			if a.count[period] == 0 || v < a.min[period] {
				a.min[period] = v
			}
			if a.count[period] == 0 || v > a.max[period] {
				a.max[period] = v
			}
			a.sum[period] += v
		}
		a.count[period]++
	}
	// Without dimensions there is one series, present even with no rows,
	// so that "fewer than N rows" conditions can fire.
	if len(r.Dimensions) == 0 && r.ResourceIDColumn == "" && len(order) == 0 {
		key := seriesKey(nil, "")
		bySeries[key] = &acc{series: Series{Key: key}, count: make([]int, r.Periods), sum: make([]float64, r.Periods),
			min: make([]float64, r.Periods), max: make([]float64, r.Periods)}
		order = append(order, key)
	}
	out := make([]Series, 0, len(order))
	for _, key := range order {
		a := bySeries[key]
		s := a.series
		have := false
		for p := 0; p < r.Periods; p++ {
			var v float64
			switch {
			case r.Aggregation == AggCount:
				v = float64(a.count[p])
			case a.count[p] == 0:
				continue // no data in this period: not a violation
			case r.Aggregation == AggAverage:
				v = a.sum[p] / float64(a.count[p])
			case r.Aggregation == AggMinimum:
				v = a.min[p]
			case r.Aggregation == AggMaximum:
				v = a.max[p]
			case r.Aggregation == AggTotal:
				v = a.sum[p]
			}
			s.Value, have = v, true
			if compare(r.Operator, v, r.Threshold) {
				s.Failing++
			}
		}
		if !have {
			s.Value = math.NaN()
		}
		s.Violating = s.Failing >= r.MinFailing
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Series) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (d Dimension) admits(v string) bool {
	all := slices.Contains(d.Values, "*")
	listed := slices.Contains(d.Values, v)
	if d.Operator == "Exclude" {
		return !all && !listed
	}
	return all || listed
}

func compare(op string, v, threshold float64) bool {
	switch op {
	case OpEquals:
		return v == threshold
	case OpGreaterThan:
		return v > threshold
	case OpGreaterThanOrEqual:
		return v >= threshold
	case OpLessThan:
		return v < threshold
	case OpLessThanOrEqual:
		return v <= threshold
	}
	return false
}

// seriesKey names a dimension combination stably: a hash of the names and
// values, so that keys stay short whatever the values.
func seriesKey(dims []DimensionValue, resource string) string {
	h := sha256.New()
	for _, d := range dims {
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(d.Name), strings.ToLower(d.Name), len(d.Value), d.Value)
	}
	fmt.Fprintf(h, "r=%s", strings.ToLower(resource))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// text is a result value as a dimension value.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		return fmt.Sprint(x)
	}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func timeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}
