package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/steward-gov/steward/internal/store"
)

// Example shows the ARM-resource pattern: keys are case-folded resource
// IDs, so a prefix scan lists what lies below a scope, and etags guard
// concurrent writers.
func Example() {
	dir, _ := os.MkdirTemp("", "steward-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	rg := "/subscriptions/S1/resourceGroups/RG1"
	ids := []string{rg + "/providers/Microsoft.Storage/storageAccounts/sa1", rg + "/providers/Microsoft.Web/sites/app1"}
	var first store.Record
	err = s.Update(ctx, func(tx store.Tx) error {
		for i, id := range ids {
			rec, err := tx.Put(ctx, "resources", strings.ToLower(id), []byte(`{"id":"`+id+`"}`), store.IfAbsent())
			if err != nil {
				return err
			}
			if i == 0 {
				first = rec
			}
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	_ = s.View(ctx, func(tx store.Tx) error {
		page, err := tx.Scan(ctx, "resources", store.Query{Prefix: strings.ToLower(rg) + "/"})
		for _, r := range page.Records {
			fmt.Println(string(r.Value))
		}
		return err
	})

	// A second writer holding the same etag loses after the first one wins.
	for _, who := range []string{"first", "second"} {
		err := s.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put(ctx, "resources", first.Key, []byte(`{"tags":{"by":"`+who+`"}}`), store.IfMatch(first.ETag))
			return err
		})
		fmt.Println(who, "writer:", errors.Is(err, store.ErrPrecondition))
	}
	// Output:
	// {"id":"/subscriptions/S1/resourceGroups/RG1/providers/Microsoft.Storage/storageAccounts/sa1"}
	// {"id":"/subscriptions/S1/resourceGroups/RG1/providers/Microsoft.Web/sites/app1"}
	// first writer: false
	// second writer: true
}
