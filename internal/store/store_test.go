package store_test

import (
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.SQLite(t) })
}

func TestPostgresConformance(t *testing.T) {
	storetest.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.Postgres(t) })
}
