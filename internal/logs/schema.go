package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// Limits on table schemas, from Azure Monitor's documented service limits.
const (
	// MaxColumns is the number of columns a table may have.
	MaxColumns = 500
	// MaxColumnNameLen is the length of a column name (Data Collector API).
	MaxColumnNameLen = 45
	// MaxTableNameLen is the length of a table name.
	MaxTableNameLen = 100
)

// TimeGenerated is the column every table has.
const TimeGenerated = "TimeGenerated"

// ingestedSQL is the SQL column of every log table that holds the time
// each row was stored (datetime ticks from the Rows clock; NULL for rows
// stored before it was kept), which KQL's ingestion_time() reads. It is
// not one of the table's columns: user columns are named c0, c1, ... in
// SQL, so it never collides with one, and queries see it only through
// ingestion_time().
const ingestedSQL = "ingested"

// Column is one column of a log table: its KQL name and type, and the SQL
// column that holds it.
type Column struct {
	Name string
	Type kql.Type
	SQL  string
}

type columnJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
	SQL  string `json:"sql"`
}

// MarshalJSON stores the type by its KQL name.
func (c Column) MarshalJSON() ([]byte, error) {
	return json.Marshal(columnJSON{Name: c.Name, Type: c.Type.String(), SQL: c.SQL})
}

// UnmarshalJSON reads a column written by MarshalJSON.
func (c *Column) UnmarshalJSON(b []byte) error {
	var j columnJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	t, err := ParseType(j.Type)
	if err != nil {
		return err
	}
	*c = Column{Name: j.Name, Type: t, SQL: j.SQL}
	return nil
}

// Table is the schema of one log table of a workspace.
type Table struct {
	// Workspace is the workspace's customerId.
	Workspace string `json:"workspace"`
	// Name is the table's name as queries spell it (MyLog_CL).
	Name string `json:"name"`
	// SQLName is the SQL table holding the rows.
	SQLName string `json:"sqlName"`
	// Columns are in table order; the first is TimeGenerated.
	Columns []Column `json:"columns"`
	// RetentionDays is how long rows are kept (0: the workspace default).
	RetentionDays int `json:"retentionDays,omitempty"`
	// NextSQL numbers the next SQL column.
	NextSQL int `json:"nextSql"`
}

// column returns the column named name, or nil.
func (t *Table) column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// kqlColumns returns the schema as kql sees it.
func (t *Table) kqlColumns() []kql.Column {
	out := make([]kql.Column, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = kql.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// tableKey is the store key of a table's schema record.
func tableKey(workspace, name string) string {
	return strings.ToLower(workspace) + "|" + strings.ToLower(name)
}

// sqlTableName derives a SQL identifier for a table: a readable part and a
// hash of the workspace and name, so that names differing only in case or
// in characters SQL cannot hold never collide.
func sqlTableName(workspace, name string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(workspace) + "|" + name))
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		}
		if b.Len() >= 24 {
			break
		}
	}
	return "logs_" + b.String() + "_" + hex.EncodeToString(sum[:6])
}

// typeNames maps the column type names of table resources, stream
// declarations and KQL to kql types.
var typeNames = map[string]kql.Type{
	"string": kql.TypeString, "int": kql.TypeInt, "long": kql.TypeLong, "real": kql.TypeReal,
	"double": kql.TypeReal, "bool": kql.TypeBool, "boolean": kql.TypeBool, "datetime": kql.TypeDateTime,
	"date": kql.TypeDateTime, "timespan": kql.TypeTimeSpan, "time": kql.TypeTimeSpan, "guid": kql.TypeGuid,
	"uniqueid": kql.TypeGuid, "dynamic": kql.TypeDynamic, "decimal": kql.TypeDecimal,
}

// ParseType returns the kql type of a column type name (case-insensitive:
// "dateTime", "boolean", "string", ...).
func ParseType(name string) (kql.Type, error) {
	t, ok := typeNames[strings.ToLower(name)]
	if !ok {
		return kql.TypeUnknown, fmt.Errorf("unknown column type %q", name)
	}
	return t, nil
}

// sqlType is the SQL column type that holds values of t. Integers, bools,
// datetimes and timespans are 64-bit integers (datetimes and timespans in
// 100 ns ticks, as kql counts them), so comparisons push down as integer
// comparisons.
func sqlType(d store.Dialect, t kql.Type) string {
	switch t {
	case kql.TypeBool, kql.TypeInt, kql.TypeLong, kql.TypeDateTime, kql.TypeTimeSpan:
		if d == store.Postgres {
			return "BIGINT"
		}
		return "INTEGER"
	case kql.TypeReal, kql.TypeDecimal:
		if d == store.Postgres {
			return "DOUBLE PRECISION"
		}
		return "REAL"
	case kql.TypeString:
		return "TEXT NOT NULL DEFAULT ''"
	}
	return "TEXT"
}

// validName reports whether s is a table or column name Steward accepts:
// letters, digits and underscores, not starting with a digit.
func validName(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
