package cloud

import (
	"encoding/json"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// TestStoredResourceType: the type read from the front of the stored
// bytes is the decoded one, for IDs that JSON escapes and for values of
// another field order (read by decoding).
func TestStoredResourceType(t *testing.T) {
	for _, id := range []string{"/subscriptions/s/resourceGroups/g/providers/A.B/c/x",
		`/subscriptions/s/providers/A.B/c/we"ird\name`, "/subscriptions/s/providers/A.B/c/<é>&"} {
		for _, typ := range []string{"A.B/c", `A.B/"q"`, "A.B/é"} {
			v, err := json.Marshal(stored{ID: id, Type: typ, Doc: map[string]any{"type": "other"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := (StoredResource{store.Record{Value: v}}).Type(); got != typ {
				t.Errorf("Type of %s = %q, want %q", v, got, typ)
			}
			other, err := json.Marshal(map[string]any{"doc": map[string]any{"type": "other"}, "id": id, "type": typ})
			if err != nil {
				t.Fatal(err)
			}
			if got := (StoredResource{store.Record{Value: other}}).Type(); got != typ {
				t.Errorf("Type of %s = %q, want %q", other, got, typ)
			}
		}
	}
}
