package server

import (
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/storage"
	"github.com/steward-gov/steward/internal/store"
)

// MigrationSets are the schemas of every component steward serve migrates,
// in the order they are applied: the store's own first. A database that
// records a migration none of them declares was migrated by a newer
// release, and Open refuses it (store.CheckSchema). A package that adds a
// migration set must be listed here; a test in cmd/steward checks that a
// served store records no component missing from this list.
func MigrationSets() []store.MigrationSet {
	return []store.MigrationSet{store.Schema(), storage.Schema(), logs.Schema()}
}
