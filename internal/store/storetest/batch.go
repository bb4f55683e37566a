package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

var batchTests = []test{
	{"PutManyWritesLikePutsAndOverwrites", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		before := mustPut(t, s, "things", "k0005", "old")
		mustPut(t, s, "things", "keep", "kept")
		// 4,503 entries: several statements, one key twice (its last
		// value wins) and one existing key overwritten.
		var entries []store.Entry
		for i := range 4500 {
			entries = append(entries, store.Entry{Key: fmt.Sprintf("k%04d", i), Value: []byte(fmt.Sprint(i))})
		}
		entries = append(entries, store.Entry{Key: "k0007", Value: []byte("seven")}, store.Entry{Key: "empty"},
			store.Entry{Key: "other", Value: []byte("x")})
		if err := s.Update(ctx, func(tx store.Tx) error { return store.PutMany(ctx, tx, "things", entries) }); err != nil {
			t.Fatal(err)
		}
		if r := mustGet(t, s, "things", "k0007"); string(r.Value) != "seven" {
			t.Errorf("k0007 = %q, want the last value written", r.Value)
		}
		r := mustGet(t, s, "things", "k0005")
		if string(r.Value) != "5" || r.ETag == before.ETag || !r.Created.Equal(before.Created) {
			t.Errorf("overwritten k0005 = %+v, was %+v: want new value and etag, same creation", r, before)
		}
		if r := mustGet(t, s, "things", "k4499"); string(r.Value) != "4499" || r.ETag == "" {
			t.Errorf("k4499 = %+v", r)
		}
		if r := mustGet(t, s, "things", "empty"); len(r.Value) != 0 {
			t.Errorf("empty = %q", r.Value)
		}
		if r := mustGet(t, s, "things", "keep"); string(r.Value) != "kept" {
			t.Errorf("keep = %q", r.Value)
		}
		// Etags stay unique across the batch.
		seen := map[string]bool{}
		for _, k := range []string{"k0000", "k0001", "k2600", "k4499", "other"} {
			e := mustGet(t, s, "things", k).ETag
			if seen[e] {
				t.Errorf("etag %q repeated", e)
			}
			seen[e] = true
		}
	}},
	{"InsertManyInsertsAbsentKeysAndRefusesPresentOnes", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		mustPut(t, s, "things", "present", "old")
		var entries []store.Entry
		for i := range 4500 { // several statements
			entries = append(entries, store.Entry{Key: fmt.Sprintf("k%04d", i), Value: []byte(fmt.Sprint(i))})
		}
		if err := s.Update(ctx, func(tx store.Tx) error { return store.InsertMany(ctx, tx, "things", entries) }); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 2000, 4499} {
			k := fmt.Sprintf("k%04d", i)
			if r := mustGet(t, s, "things", k); string(r.Value) != fmt.Sprint(i) {
				t.Errorf("%s = %q", k, r.Value)
			}
		}
		// A present key fails the whole transaction: nothing of it is kept.
		err := s.Update(ctx, func(tx store.Tx) error {
			return store.InsertMany(ctx, tx, "things", []store.Entry{{Key: "new", Value: []byte("x")}, {Key: "present", Value: []byte("y")}})
		})
		if err == nil {
			t.Fatal("InsertMany over a present key succeeded")
		}
		if r := mustGet(t, s, "things", "present"); string(r.Value) != "old" {
			t.Errorf("present = %q after the failed insert", r.Value)
		}
		_, err = get(t, s, "things", "new")
		wantErr(t, "the failed transaction's other key", err, store.ErrNotFound)
	}},
	{"DeleteManyRemovesAndIgnoresMissing", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		var entries []store.Entry
		var keys []string
		for i := range 4500 { // more keys than a statement takes
			k := fmt.Sprintf("k%04d", i)
			entries = append(entries, store.Entry{Key: k, Value: []byte("v")})
			if i%2 == 0 {
				keys = append(keys, k)
			}
		}
		keys = append(keys, "missing")
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := store.PutMany(ctx, tx, "things", entries); err != nil {
				return err
			}
			return store.DeleteMany(ctx, tx, "things", keys)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = get(t, s, "things", "k0000")
		wantErr(t, "deleted k0000", err, store.ErrNotFound)
		_, err = get(t, s, "things", "k4498")
		wantErr(t, "deleted k4498", err, store.ErrNotFound)
		mustGet(t, s, "things", "k4499")
	}},
	{"GetManyReadsThePresentKeysInOrder", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		var entries []store.Entry
		var keys []string
		for i := range 7000 { // more keys than a statement takes
			k := fmt.Sprintf("k%04d", i)
			entries = append(entries, store.Entry{Key: k, Value: []byte(fmt.Sprint(i))})
			if i%3 == 0 {
				keys = append([]string{k}, keys...) // descending
			}
		}
		keys = append(keys, "missing", "k0003")
		mustPut(t, s, "other", "k0003", "elsewhere")
		if err := s.Update(ctx, func(tx store.Tx) error { return store.PutMany(ctx, tx, "things", entries) }); err != nil {
			t.Fatal(err)
		}
		var got []store.Record
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			got, err = store.GetMany(ctx, tx, "things", keys)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2334 {
			t.Fatalf("%d records, want 2334 (every third of 7000, each once)", len(got))
		}
		for i, r := range got {
			want := mustGet(t, s, "things", fmt.Sprintf("k%04d", 3*i))
			if r.Key != want.Key || string(r.Value) != string(want.Value) || r.ETag != want.ETag || !r.Updated.Equal(want.Updated) || r.Table != "things" {
				t.Fatalf("record %d = %+v, want %+v", i, r, want)
			}
		}
		err = s.View(ctx, func(tx store.Tx) error {
			_, err := store.GetMany(ctx, tx, "things", []string{"a", ""})
			return err
		})
		wantErr(t, "empty key", err, store.ErrInvalid)
	}},
	{"BatchRejectsInvalidKeysAndReadOnly", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		err := s.Update(ctx, func(tx store.Tx) error {
			return store.PutMany(ctx, tx, "things", []store.Entry{{Key: "a"}, {Key: ""}})
		})
		wantErr(t, "empty key", err, store.ErrInvalid)
		_, err = get(t, s, "things", "a")
		wantErr(t, "rolled back", err, store.ErrNotFound)
		err = s.View(ctx, func(tx store.Tx) error {
			return store.PutMany(ctx, tx, "things", []store.Entry{{Key: "a"}})
		})
		wantErr(t, "read-only", err, store.ErrReadOnly)
		err = s.View(ctx, func(tx store.Tx) error { return store.DeleteMany(ctx, tx, "things", []string{"a"}) })
		wantErr(t, "read-only delete", err, store.ErrReadOnly)
	}}, {"KeysPagesLikeAKeysOnlyScan", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		seed(t, s, "res", scanKeys)
		seed(t, s, "other", []string{"a", "zzz"})
		for _, q := range []store.Query{{}, {Limit: 3}, {Prefix: "/subscriptions/s1", Limit: 2},
			{Start: "a", End: "b", Limit: 1}, {Prefix: "a", Start: "a/c"}, {Prefix: "none"}} {
			want, _ := scanAll(t, s, "res", q)
			var got []string
			for pages := 0; ; pages++ {
				var page store.Page
				err := s.View(ctx, func(tx store.Tx) error {
					var err error
					page, err = store.Keys(ctx, tx, "res", q)
					return err
				})
				if err != nil {
					t.Fatalf("keys %+v: %v", q, err)
				}
				for _, r := range page.Records {
					if r.Table != "res" || r.Value != nil {
						t.Errorf("keys %+v returned %+v", q, r)
					}
					got = append(got, r.Key)
				}
				if page.Next == "" || pages > 100 {
					break
				}
				q.After = page.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("keys %+v = %q, a KeysOnly scan gives %q", q, got, want)
			}
		}
		err := s.View(ctx, func(tx store.Tx) error {
			_, err := store.Keys(ctx, tx, "res", store.Query{Limit: -1})
			return err
		})
		wantErr(t, "negative limit", err, store.ErrInvalid)
	}},
}
