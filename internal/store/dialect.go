package store

import (
	"strconv"
	"strings"
)

// Rebind rewrites the "?" placeholders of query into the dialect's form:
// unchanged for SQLite, $1, $2, ... for PostgreSQL. It does not look inside
// string literals, so queries must not contain a literal "?".
func (d Dialect) Rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
