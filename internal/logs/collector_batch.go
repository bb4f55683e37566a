package logs

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-gov/steward/internal/logs/kql"
)

// suffixTypes are the Data Collector API's column suffixes, in the order an
// existing column is tried for a value that does not have its own suffix.
var suffixTypes = []struct {
	suffix string
	t      kql.Type
}{
	{"_s", kql.TypeString}, {"_d", kql.TypeReal}, {"_b", kql.TypeBool}, {"_t", kql.TypeDateTime}, {"_g", kql.TypeGuid},
}

// reservedFields are property names the API refuses (case-insensitive).
var reservedFields = map[string]bool{"tenant": true, "timegenerated": true, "rawdata": true}

// maxTimeGeneratedAge is how old a time-generated-field value may be; an
// older one is replaced by the ingestion time, as the API documents.
const maxTimeGeneratedAge = 48 * time.Hour

// collectorBatch turns Data Collector records into typed rows, choosing
// each property's column as the service does: the column its value's type
// suffix names if the table has it, else an existing column of the same
// property whose type the value converts to, else a new column with the
// value's suffix.
type collectorBatch struct {
	cols     []kql.Column
	index    map[string]int
	rows     []kql.Row
	std      kql.Row
	tgField  string
	now      time.Time
	existing map[string]kql.Type
}

func newCollectorBatch(t *Table, tenant, table, resourceID, tgField string, now time.Time) *collectorBatch {
	b := &collectorBatch{index: map[string]int{}, tgField: tgField, now: now, existing: map[string]kql.Type{}}
	if t != nil {
		for _, c := range t.Columns {
			b.existing[c.Name] = c.Type
		}
	}
	std := []struct {
		name string
		v    kql.Value
	}{
		{"TenantId", kql.String(tenant)}, {"SourceSystem", kql.String("RestAPI")},
		{TimeGenerated, kql.DateTime(Ticks(now))}, {"Type", kql.String(table)},
		{"_ResourceId", kql.String(strings.ToLower(resourceID))},
	}
	for _, s := range std {
		b.column(s.name, s.v.T)
		b.std = append(b.std, s.v)
	}
	return b
}

// column returns the index of a batch column, adding it when new.
func (b *collectorBatch) column(name string, t kql.Type) int {
	if i, ok := b.index[name]; ok {
		return i
	}
	b.index[name] = len(b.cols)
	b.cols = append(b.cols, kql.Column{Name: name, Type: t})
	b.existing[name] = t
	return len(b.cols) - 1
}

// add types one record and appends its row.
func (b *collectorBatch) add(rec *kql.Bag) error {
	row := make(kql.Row, len(b.cols), len(b.cols)+len(rec.Keys))
	copy(row, b.std)
	for _, k := range rec.Keys {
		x := rec.M[k]
		if x == nil {
			continue // null properties are dropped
		}
		if reservedFields[strings.ToLower(k)] {
			return fmt.Errorf("the property name %q is reserved", k)
		}
		if !validName(k, MaxColumnNameLen) {
			return fmt.Errorf("the property name %q must be letters, digits and underscores", k)
		}
		suffix, v := inferSuffix(x)
		name, val := b.resolve(k, suffix, v, x)
		if len(name) > MaxColumnNameLen {
			return fmt.Errorf("the column name %q is longer than %d characters", name, MaxColumnNameLen)
		}
		i := b.column(name, val.T)
		for len(row) <= i {
			row = append(row, kql.Value{})
		}
		row[i] = val
		if b.tgField != "" && k == b.tgField {
			if tm, ok := parseDateTime(fmt.Sprint(x)); ok && !tm.Before(b.now.Add(-maxTimeGeneratedAge)) {
				row[b.index[TimeGenerated]] = kql.DateTime(Ticks(tm))
			}
		}
	}
	if len(b.cols) > MaxColumns {
		return fmt.Errorf("the table would have more than %d columns", MaxColumns)
	}
	b.rows = append(b.rows, row)
	return nil
}

// resolve picks the column of property k for a value whose own suffix is
// suffix.
func (b *collectorBatch) resolve(k, suffix string, v kql.Value, x any) (string, kql.Value) {
	own := k + suffix
	if t, ok := b.existing[own]; ok && t == v.T {
		return own, v
	}
	for _, st := range suffixTypes {
		name := k + st.suffix
		if t, ok := b.existing[name]; ok && name != own && t == st.t {
			if cv, ok := coerce(jsonForm(x), st.t); ok && !cv.IsNull() {
				return name, cv
			}
		}
	}
	return own, v
}

// jsonForm is what coerce takes for a decoded JSON value: objects and
// arrays as their compact text.
func jsonForm(x any) any {
	switch x.(type) {
	case []any, *kql.Bag:
		return kql.Dynamic(toKQL(x)).Plain()
	}
	return x
}

// inferSuffix types a JSON value as the Data Collector API does: numbers
// are doubles, strings that look like GUIDs or ISO 8601 date-times are
// GUIDs and datetimes, objects and arrays are stored as JSON strings.
func inferSuffix(x any) (string, kql.Value) {
	switch v := x.(type) {
	case bool:
		return "_b", kql.Bool(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return "_s", kql.String(v.String())
		}
		return "_d", kql.Real(f)
	case string:
		if g, ok := parseGuid(v); ok {
			return "_g", kql.Guid(g)
		}
		if t, ok := parseDateTime(v); ok {
			return "_t", kql.DateTime(Ticks(t))
		}
		return "_s", kql.String(truncateUTF8(v, MaxFieldBytes))
	}
	return "_s", kql.String(truncateUTF8(jsonForm(x).(string), MaxFieldBytes))
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
