package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

var crudTests = []test{
	{"PutThenGetReturnsValueAndMetadata", func(t *testing.T, s store.Store) {
		w := mustPut(t, s, "things", "a", `{"x":1}`)
		r := mustGet(t, s, "things", "a")
		if string(r.Value) != `{"x":1}` || r.Table != "things" || r.Key != "a" {
			t.Fatalf("got %+v", r)
		}
		if r.ETag == "" || r.ETag != w.ETag {
			t.Fatalf("etag read %q, written %q", r.ETag, w.ETag)
		}
		if r.Created.IsZero() || !r.Created.Equal(r.Updated) {
			t.Fatalf("created %v updated %v: want equal and set", r.Created, r.Updated)
		}
	}},
	{"GetMissingIsNotFound", func(t *testing.T, s store.Store) {
		_, err := get(t, s, "things", "nope")
		wantErr(t, "get missing", err, store.ErrNotFound)
	}},
	{"OverwriteChangesETagKeepsCreated", func(t *testing.T, s store.Store) {
		first := mustPut(t, s, "things", "a", "1")
		second := mustPut(t, s, "things", "a", "2")
		if first.ETag == second.ETag {
			t.Fatalf("etag unchanged by overwrite: %q", first.ETag)
		}
		r := mustGet(t, s, "things", "a")
		if string(r.Value) != "2" || !r.Created.Equal(first.Created) || r.ETag != second.ETag {
			t.Fatalf("got %+v after overwrite of %+v", r, first)
		}
	}},
	{"DeleteRemovesAndSecondDeleteIsNotFound", func(t *testing.T, s store.Store) {
		mustPut(t, s, "things", "a", "1")
		del := func() error {
			return s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Delete(context.Background(), "things", "a", store.Cond{})
			})
		}
		if err := del(); err != nil {
			t.Fatal(err)
		}
		_, err := get(t, s, "things", "a")
		wantErr(t, "get deleted", err, store.ErrNotFound)
		wantErr(t, "second delete", del(), store.ErrNotFound)
	}},
	{"TablesAreSeparateNamespaces", func(t *testing.T, s store.Store) {
		mustPut(t, s, "one", "k", "1")
		mustPut(t, s, "two", "k", "2")
		if v := string(mustGet(t, s, "one", "k").Value); v != "1" {
			t.Fatalf("one/k = %q", v)
		}
		if v := string(mustGet(t, s, "two", "k").Value); v != "2" {
			t.Fatalf("two/k = %q", v)
		}
	}},
	{"EmptyValueRoundTrips", func(t *testing.T, s store.Store) {
		mustPut(t, s, "things", "empty", "")
		r := mustGet(t, s, "things", "empty")
		if r.Value == nil || len(r.Value) != 0 {
			t.Fatalf("value %#v, want empty non-nil", r.Value)
		}
	}},
	{"LargeValueRoundTrips", func(t *testing.T, s store.Store) {
		big := make([]byte, 8<<20)
		for i := range big {
			big[i] = byte(i*7 + i>>9)
		}
		err := s.Update(context.Background(), func(tx store.Tx) error {
			_, err := tx.Put(context.Background(), "blobs", "big", big, store.Cond{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := mustGet(t, s, "blobs", "big"); !bytes.Equal(r.Value, big) {
			t.Fatalf("8 MiB value came back as %d different bytes", len(r.Value))
		}
	}},
	{"BinaryValueRoundTrips", func(t *testing.T, s store.Store) {
		v := string([]byte{0, 1, 0xff, 0xfe, 0, '\n'})
		mustPut(t, s, "things", "bin", v)
		if r := mustGet(t, s, "things", "bin"); string(r.Value) != v {
			t.Fatalf("got %x, want %x", r.Value, v)
		}
	}},
	{"UnicodeKeysRoundTrip", func(t *testing.T, s store.Store) {
		keys := []string{"é", "日本語/キー", "emoji/😀", "/subscriptions/ÄÖÜ/resourceGroups/ß", "\U0010FFFF", "a b\tc"}
		for _, k := range keys {
			mustPut(t, s, "uni", k, "v:"+k)
		}
		for _, k := range keys {
			if r := mustGet(t, s, "uni", k); string(r.Value) != "v:"+k || r.Key != k {
				t.Fatalf("key %q: got %+v", k, r)
			}
		}
	}},
	{"KeysAreCaseSensitive", func(t *testing.T, s store.Store) {
		mustPut(t, s, "things", "Key", "upper")
		mustPut(t, s, "things", "key", "lower")
		if v := string(mustGet(t, s, "things", "Key").Value); v != "upper" {
			t.Fatalf("Key = %q", v)
		}
	}},
	{"InvalidNamesAreRejected", func(t *testing.T, s store.Store) {
		cases := []struct{ table, key string }{
			{"", "k"}, {"Upper", "k"}, {"sp ace", "k"}, {strings.Repeat("t", 65), "k"},
			{"t", ""}, {"t", "nul\x00"}, {"t", "\xff\xfe"}, {"t", strings.Repeat("k", store.MaxKeyLen+1)},
		}
		for _, c := range cases {
			_, err := put(t, s, c.table, c.key, "v", store.Cond{})
			wantErr(t, "put "+c.table+"/"+c.key, err, store.ErrInvalid)
			_, err = get(t, s, c.table, c.key)
			wantErr(t, "get "+c.table+"/"+c.key, err, store.ErrInvalid)
		}
	}},
	{"OversizedValueIsInvalid", func(t *testing.T, s store.Store) {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			_, err := tx.Put(context.Background(), "blobs", "huge", make([]byte, store.MaxValueLen+1), store.Cond{})
			return err
		})
		wantErr(t, "put of MaxValueLen+1 bytes", err, store.ErrInvalid)
	}},
	{"LongestKeyIsAccepted", func(t *testing.T, s store.Store) {
		k := strings.Repeat("k", store.MaxKeyLen)
		mustPut(t, s, "things", k, "v")
		mustGet(t, s, "things", k)
	}},
}

var condTests = []test{
	{"IfAbsentCreatesOnce", func(t *testing.T, s store.Store) {
		if _, err := put(t, s, "things", "a", "1", store.IfAbsent()); err != nil {
			t.Fatal(err)
		}
		_, err := put(t, s, "things", "a", "2", store.IfAbsent())
		wantErr(t, "second create", err, store.ErrExists)
		if v := string(mustGet(t, s, "things", "a").Value); v != "1" {
			t.Fatalf("value %q after refused create", v)
		}
	}},
	{"IfMatchWithCurrentETagWrites", func(t *testing.T, s store.Store) {
		r := mustPut(t, s, "things", "a", "1")
		w, err := put(t, s, "things", "a", "2", store.IfMatch(r.ETag))
		if err != nil {
			t.Fatal(err)
		}
		if w.ETag == r.ETag {
			t.Fatal("etag unchanged")
		}
	}},
	{"IfMatchWithStaleETagFails", func(t *testing.T, s store.Store) {
		r := mustPut(t, s, "things", "a", "1")
		mustPut(t, s, "things", "a", "2")
		_, err := put(t, s, "things", "a", "3", store.IfMatch(r.ETag))
		wantErr(t, "stale put", err, store.ErrPrecondition)
		if v := string(mustGet(t, s, "things", "a").Value); v != "2" {
			t.Fatalf("value %q after refused write", v)
		}
	}},
	{"IfMatchOnMissingRecordFails", func(t *testing.T, s store.Store) {
		r := mustPut(t, s, "things", "other", "1")
		_, err := put(t, s, "things", "a", "1", store.IfMatch(r.ETag))
		wantErr(t, "if-match on missing", err, store.ErrPrecondition)
		_, err = put(t, s, "things", "a", "1", store.IfMatch("not-an-etag"))
		wantErr(t, "foreign etag", err, store.ErrPrecondition)
	}},
	{"ETagOfRecreatedRecordDiffers", func(t *testing.T, s store.Store) {
		old := mustPut(t, s, "things", "a", "1")
		err := s.Update(context.Background(), func(tx store.Tx) error {
			return tx.Delete(context.Background(), "things", "a", store.Cond{})
		})
		if err != nil {
			t.Fatal(err)
		}
		fresh := mustPut(t, s, "things", "a", "1")
		if fresh.ETag == old.ETag {
			t.Fatalf("re-created record reuses etag %q", old.ETag)
		}
		_, err = put(t, s, "things", "a", "2", store.IfMatch(old.ETag))
		wantErr(t, "put with etag of deleted incarnation", err, store.ErrPrecondition)
	}},
	{"DeleteIfMatch", func(t *testing.T, s store.Store) {
		r := mustPut(t, s, "things", "a", "1")
		mustPut(t, s, "things", "a", "2")
		del := func(etag string) error {
			return s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Delete(context.Background(), "things", "a", store.IfMatch(etag))
			})
		}
		wantErr(t, "stale delete", del(r.ETag), store.ErrPrecondition)
		cur := mustGet(t, s, "things", "a")
		if err := del(cur.ETag); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "delete gone", del(cur.ETag), store.ErrPrecondition)
	}},
	{"ConflictingConditionsAreInvalid", func(t *testing.T, s store.Store) {
		_, err := put(t, s, "things", "a", "1", store.Cond{IfAbsent: true, IfMatch: "r1"})
		wantErr(t, "both conditions", err, store.ErrInvalid)
	}},
}
