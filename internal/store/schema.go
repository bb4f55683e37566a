package store

import "strings"

// storeMigrations is the schema of the record tables themselves. Keys are
// compared bytewise on both backends: SQLite's default BINARY collation, and
// COLLATE "C" on PostgreSQL. Times are Unix nanoseconds. rev is a
// store-wide revision, so an etag never repeats, not even after a delete.
var storeMigrations = MigrationSet{
	Component: "store",
	Migrations: []Migration{{
		Version: 1,
		Name:    "records and revision counter",
		SQL: map[Dialect][]string{
			SQLite: {
				`CREATE TABLE steward_records (
					tbl TEXT NOT NULL,
					k TEXT NOT NULL,
					v BLOB NOT NULL,
					rev INTEGER NOT NULL,
					created INTEGER NOT NULL,
					updated INTEGER NOT NULL,
					lease_owner TEXT NOT NULL DEFAULT '',
					lease_until INTEGER NOT NULL DEFAULT 0,
					PRIMARY KEY (tbl, k))`,
				`CREATE TABLE steward_revision (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL)`,
				`INSERT INTO steward_revision (id, rev) VALUES (1, 0)`,
			},
			Postgres: {
				`CREATE TABLE steward_records (
					tbl text COLLATE "C" NOT NULL,
					k text COLLATE "C" NOT NULL,
					v bytea NOT NULL,
					rev bigint NOT NULL,
					created bigint NOT NULL,
					updated bigint NOT NULL,
					lease_owner text NOT NULL DEFAULT '',
					lease_until bigint NOT NULL DEFAULT 0,
					PRIMARY KEY (tbl, k))`,
				`CREATE SEQUENCE steward_revision`,
			},
		},
	}, {
		Version: 2,
		Name:    "index of held leases",
		// ReleaseAll (at shutdown) and the queue metrics' expired-lease
		// count look records up by owner; few records are leased at once.
		SQL: map[Dialect][]string{
			SQLite:   {`CREATE INDEX steward_records_lease_owner ON steward_records (lease_owner) WHERE lease_owner <> ''`},
			Postgres: {`CREATE INDEX steward_records_lease_owner ON steward_records (lease_owner) WHERE lease_owner <> ''`},
		},
	}},
}

// queries are the statements of one dialect, with "?" placeholders already
// rebound. Where a write sets rev, PostgreSQL draws it from the sequence in
// the statement and SQLite passes it as a parameter (see sqlTx.nextRev).
type queries struct {
	get, insertIfAbsent, upsert, updateIfMatch, del, delIfMatch string
	// acquire[1] has an upper key bound, acquire[0] has none.
	acquire        [2]string
	renew, release string
}

func newQueries(d Dialect) queries {
	revExpr := "nextval('steward_revision')"
	skipLocked := " FOR UPDATE SKIP LOCKED"
	if d == SQLite {
		revExpr = "?"
		skipLocked = "" // one writer: nothing to skip
	}
	var q queries
	r := func(s string) string { return d.Rebind(strings.ReplaceAll(s, "REV", revExpr)) }
	q.get = r(`SELECT v, rev, created, updated FROM steward_records WHERE tbl = ? AND k = ?`)
	q.insertIfAbsent = r(`INSERT INTO steward_records (tbl, k, v, created, updated, rev) VALUES (?, ?, ?, ?, ?, REV)
		ON CONFLICT (tbl, k) DO NOTHING RETURNING rev, created`)
	q.upsert = r(`INSERT INTO steward_records (tbl, k, v, created, updated, rev) VALUES (?, ?, ?, ?, ?, REV)
		ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v, rev = excluded.rev, updated = excluded.updated
		RETURNING rev, created`)
	q.updateIfMatch = r(`UPDATE steward_records SET v = ?, updated = ?, rev = REV
		WHERE tbl = ? AND k = ? AND rev = ? RETURNING rev, created`)
	q.del = r(`DELETE FROM steward_records WHERE tbl = ? AND k = ?`)
	q.delIfMatch = r(`DELETE FROM steward_records WHERE tbl = ? AND k = ? AND rev = ?`)
	for i, upper := range []string{"", " AND k < ?"} {
		q.acquire[i] = r(`UPDATE steward_records SET lease_owner = ?, lease_until = ?
		WHERE (tbl, k) IN (SELECT tbl, k FROM steward_records
			WHERE tbl = ? AND lease_until <= ? AND k >= ?` + upper + `
			ORDER BY k LIMIT ?` + skipLocked + `)
		RETURNING k, v, rev, created, updated, lease_owner, lease_until`)
	}
	q.renew = r(`UPDATE steward_records SET lease_until = ?
		WHERE tbl = ? AND k = ? AND lease_owner = ?
		RETURNING k, v, rev, created, updated, lease_owner, lease_until`)
	q.release = r(`UPDATE steward_records SET lease_owner = '', lease_until = 0
		WHERE tbl = ? AND k = ? AND lease_owner = ?`)
	return q
}
