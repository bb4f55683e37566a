package web

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Charts are drawn on the server as SVG from the query's render operator,
// as the Log Analytics portal draws them: a timechart's x axis is the first
// datetime column, its lines the numeric columns (one per value of the
// first string column, if any); a columnchart's and a piechart's labels are
// the first string column and their values the first numeric column.

// maxChartPoints bounds what one chart draws.
const maxChartPoints = 2000

// palette is the series' colours, dark enough on white for contrast.
var palette = []string{"#0054a6", "#a4262c", "#0b6a0b", "#8a5a00", "#5c2e91", "#005b70", "#7a3e00", "#3b3a39"}

// chartColumn is a result column as the chart reads it.
type chartColumn struct{ Name, Type string }

// chart is a drawn chart: the template emits its shapes.
type chart struct {
	Kind, Title   string
	Width, Height int
	Lines         []chartLine
	Bars          []chartBar
	Slices        []chartSlice
	// Axis labels: the extremes of x and y.
	XMin, XMax, YMin, YMax string
	// Note says what could not be drawn.
	Note string
}

type chartLine struct{ Points, Color, Label string }

type chartBar struct {
	X, Y, W, H   float64
	Color, Label string
}

type chartSlice struct{ Path, Color, Label string }

const (
	chartW, chartH = 640, 320
	plotL, plotT   = 60, 10
	plotW, plotH   = 560, 260
)

func isNumeric(t string) bool { return t == "int" || t == "long" || t == "real" || t == "decimal" }

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case string: // decimals and long values may come as strings
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func firstOf(cols []chartColumn, match func(string) bool) int {
	for i, c := range cols {
		if match(c.Type) {
			return i
		}
	}
	return -1
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// drawChart draws kind from the result; it returns a chart with a Note
// when the columns do not fit the kind.
func drawChart(kind string, cols []chartColumn, rows [][]any) chart {
	ch := chart{Kind: kind, Width: chartW, Height: chartH}
	if len(rows) > maxChartPoints {
		rows = rows[:maxChartPoints]
		ch.Note = fmt.Sprintf("Only the first %d rows are drawn.", maxChartPoints)
	}
	str := firstOf(cols, func(t string) bool { return t == "string" })
	num := firstOf(cols, isNumeric)
	switch kind {
	case "timechart":
		x := firstOf(cols, func(t string) bool { return t == "datetime" })
		if x < 0 || num < 0 {
			ch.Note = "A timechart needs a datetime column and a numeric column."
			return ch
		}
		drawTime(&ch, cols, rows, x, str)
	case "columnchart", "barchart":
		if num < 0 {
			ch.Note = "A column chart needs a numeric column."
			return ch
		}
		drawColumns(&ch, rows, labelColumn(str, num), num)
	case "piechart":
		if num < 0 {
			ch.Note = "A pie chart needs a numeric column."
			return ch
		}
		drawPie(&ch, rows, labelColumn(str, num), num)
	default:
		ch.Note = "The console draws timechart, columnchart and piechart; this query renders " + kind + "."
	}
	return ch
}

// labelColumn is the string column, or else the first column that is not
// the values.
func labelColumn(str, num int) int {
	if str >= 0 {
		return str
	}
	if num == 0 {
		return 1
	}
	return 0
}

func label(row []any, i int) string {
	if i < 0 || i >= len(row) || row[i] == nil {
		return ""
	}
	if s, ok := row[i].(string); ok {
		return s
	}
	return fmt.Sprint(row[i])
}

func drawTime(ch *chart, cols []chartColumn, rows [][]any, x, split int) {
	type pt struct{ t, v float64 }
	series := map[string][]pt{}
	var order []string
	tmin, tmax, vmin, vmax := math.Inf(1), math.Inf(-1), 0.0, math.Inf(-1)
	for _, row := range rows {
		if x >= len(row) {
			continue
		}
		s, _ := row[x].(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			continue
		}
		tf := float64(t.UnixMilli())
		for i, c := range cols {
			if !isNumeric(c.Type) || i >= len(row) {
				continue
			}
			v, ok := number(row[i])
			if !ok {
				continue
			}
			name := c.Name
			if split >= 0 {
				name = label(row, split)
				if i != firstOf(cols, isNumeric) {
					name += " " + c.Name
				}
			}
			if _, seen := series[name]; !seen {
				order = append(order, name)
			}
			series[name] = append(series[name], pt{tf, v})
			tmin, tmax = math.Min(tmin, tf), math.Max(tmax, tf)
			vmin, vmax = math.Min(vmin, v), math.Max(vmax, v)
		}
	}
	if len(order) == 0 {
		ch.Note = "The result has no point to draw."
		return
	}
	if tmax == tmin {
		tmax = tmin + 1
	}
	if vmax <= vmin {
		vmax = vmin + 1
	}
	for i, name := range order {
		pts := series[name]
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].t < pts[b].t })
		var b strings.Builder
		for _, p := range pts {
			px := plotL + (p.t-tmin)/(tmax-tmin)*plotW
			py := plotT + plotH - (p.v-vmin)/(vmax-vmin)*plotH
			fmt.Fprintf(&b, "%.1f,%.1f ", px, py)
		}
		ch.Lines = append(ch.Lines, chartLine{Points: strings.TrimSpace(b.String()), Color: palette[i%len(palette)], Label: name})
	}
	ch.XMin = time.UnixMilli(int64(tmin)).UTC().Format(time.RFC3339)
	ch.XMax = time.UnixMilli(int64(tmax)).UTC().Format(time.RFC3339)
	ch.YMin, ch.YMax = fmtNum(vmin), fmtNum(vmax)
}

func drawColumns(ch *chart, rows [][]any, lab, num int) {
	type bar struct {
		label string
		v     float64
	}
	var bars []bar
	vmax := 0.0
	for _, row := range rows {
		if num >= len(row) {
			continue
		}
		v, ok := number(row[num])
		if !ok || v < 0 {
			continue
		}
		bars = append(bars, bar{label(row, lab), v})
		vmax = math.Max(vmax, v)
	}
	if len(bars) == 0 {
		ch.Note = "The result has no value to draw."
		return
	}
	if vmax == 0 {
		vmax = 1
	}
	w := float64(plotW) / float64(len(bars))
	for i, b := range bars {
		h := b.v / vmax * plotH
		ch.Bars = append(ch.Bars, chartBar{X: plotL + float64(i)*w + w*0.1, Y: plotT + plotH - h, W: w * 0.8, H: h,
			Color: palette[0], Label: b.label + ": " + fmtNum(b.v)})
	}
	ch.YMin, ch.YMax = "0", fmtNum(vmax)
}

func drawPie(ch *chart, rows [][]any, lab, num int) {
	type part struct {
		label string
		v     float64
	}
	var parts []part
	total := 0.0
	for _, row := range rows {
		if num >= len(row) {
			continue
		}
		if v, ok := number(row[num]); ok && v > 0 {
			parts = append(parts, part{label(row, lab), v})
			total += v
		}
	}
	if total == 0 {
		ch.Note = "The result has no positive value to draw."
		return
	}
	const cx, cy, r = 160.0, 160.0, 140.0
	a := -math.Pi / 2
	for i, p := range parts {
		sweep := p.v / total * 2 * math.Pi
		lab := fmt.Sprintf("%s: %s (%.1f%%)", p.label, fmtNum(p.v), p.v/total*100)
		color := palette[i%len(palette)]
		if len(parts) == 1 {
			ch.Slices = append(ch.Slices, chartSlice{Path: fmt.Sprintf("M %.1f %.1f m -%.1f 0 a %.1f %.1f 0 1 0 %.1f 0 a %.1f %.1f 0 1 0 -%.1f 0 Z", cx, cy, r, r, r, 2*r, r, r, 2*r), Color: color, Label: lab})
			break
		}
		large := 0
		if sweep > math.Pi {
			large = 1
		}
		x1, y1 := cx+r*math.Cos(a), cy+r*math.Sin(a)
		x2, y2 := cx+r*math.Cos(a+sweep), cy+r*math.Sin(a+sweep)
		ch.Slices = append(ch.Slices, chartSlice{Path: fmt.Sprintf("M %.1f %.1f L %.1f %.1f A %.1f %.1f 0 %d 1 %.1f %.1f Z", cx, cy, x1, y1, r, r, large, x2, y2),
			Color: color, Label: lab})
		a += sweep
	}
}
