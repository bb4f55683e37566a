package reports

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// TestUsageRecorderThrottlesAndFeedsAccess notes data-plane calls: a
// repeat within the interval is not written again, one after it is, and
// the records read back as the access report's data operations, so the
// data role they use is not reported unused.
func TestUsageRecorderThrottlesAndFeedsAccess(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "usage.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := NewUsageRecorder(st, 5*time.Minute, func() time.Time { return now })
	vault := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
	const get = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
	r.Note("p1", vault+"/secrets/db", get)
	r.Note("p1", vault+"/secrets/db", get) // within the interval: dropped
	if n := len(r.queue); n != 1 {
		t.Fatalf("queued %d records, want 1", n)
	}
	now = now.Add(6 * time.Minute)
	r.Note("p1", vault+"/secrets/db", get)
	if n := len(r.queue); n != 2 {
		t.Fatalf("queued %d records after the interval, want 2", n)
	}
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	ops, err := UsageOperations(ctx, st, now.Add(-time.Hour))
	if err != nil || len(ops) != 1 || !ops[0].Time.Equal(now) || !ops[0].Data {
		t.Fatalf("operations: %+v %v, want the one record at its last time", ops, err)
	}
	if old, _ := UsageOperations(ctx, st, now.Add(time.Minute)); len(old) != 0 {
		t.Fatalf("records before since: %+v", old)
	}
	secretsUser := RoleDefinition{ID: "/providers/Microsoft.Authorization/roleDefinitions/secrets-user", Name: "Key Vault Secrets User", BuiltIn: true,
		DataActions: []string{"Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"}}
	a := RoleAssignment{ID: vault + "/providers/Microsoft.Authorization/roleAssignments/a1", Scope: vault, PrincipalID: "p1",
		PrincipalType: "ServicePrincipal", RoleDefinitionID: secretsUser.ID}
	opt := AccessOptions{Now: now, Window: 30 * 24 * time.Hour}
	if got := Access([]RoleAssignment{a}, []RoleDefinition{secretsUser}, nil, opt); len(got) != 1 {
		t.Fatalf("without the data-plane record: %+v, want the assignment reported unused", got)
	}
	if got := Access([]RoleAssignment{a}, []RoleDefinition{secretsUser}, ops, opt); len(got) != 0 {
		t.Fatalf("with the data-plane record: %+v, want no finding", got)
	}
}
