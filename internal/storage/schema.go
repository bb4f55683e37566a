package storage

import "github.com/steward-gov/steward/internal/store"

// migrations declare the typed SQL tables of the Table service. Keys sort
// bytewise on both backends (PostgreSQL's "C" collation), as the service
// orders entities by PartitionKey then RowKey in byte order.
var migrations = store.MigrationSet{
	Component: "storage",
	Migrations: []store.Migration{{
		Version: 1,
		Name:    "tables and entities",
		SQL: map[store.Dialect][]string{
			store.SQLite: {
				`CREATE TABLE storage_tables (account TEXT NOT NULL, lname TEXT NOT NULL, name TEXT NOT NULL,
					acl TEXT NOT NULL DEFAULT '', created BIGINT NOT NULL, PRIMARY KEY (account, lname))`,
				`CREATE TABLE storage_entities (account TEXT NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL,
					rk TEXT NOT NULL, ts BIGINT NOT NULL, props TEXT NOT NULL, PRIMARY KEY (account, tbl, pk, rk)) WITHOUT ROWID`,
			},
			store.Postgres: {
				`CREATE TABLE storage_tables (account TEXT COLLATE "C" NOT NULL, lname TEXT COLLATE "C" NOT NULL,
					name TEXT NOT NULL, acl TEXT NOT NULL DEFAULT '', created BIGINT NOT NULL, PRIMARY KEY (account, lname))`,
				`CREATE TABLE storage_entities (account TEXT COLLATE "C" NOT NULL, tbl TEXT COLLATE "C" NOT NULL,
					pk TEXT COLLATE "C" NOT NULL, rk TEXT COLLATE "C" NOT NULL, ts BIGINT NOT NULL, props TEXT NOT NULL,
					PRIMARY KEY (account, tbl, pk, rk))`,
			},
		},
	}},
}

// Schema returns the Table service's migration set, which New applies;
// steward migrate applies and reports it ahead of a start.
func Schema() store.MigrationSet { return migrations }
