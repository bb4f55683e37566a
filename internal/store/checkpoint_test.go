package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteLogIsCheckpointedBesideTheWriter: commits that leave the log
// far below the writer's own checkpoint threshold are copied into the
// database file by the background checkpoint, and Close stops it.
func TestSQLiteLogIsCheckpointedBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "steward.db")
	st, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*sqlStore)
	before := fileSize(t, path)
	// About 2 MB: 500 pages, half SQLite's default threshold and an
	// eighth of the writer's.
	value := []byte(strings.Repeat("x", 4000))
	for i := range 10 {
		err := st.Update(ctx, func(tx Tx) error {
			var rows []Entry
			for j := range 50 {
				rows = append(rows, Entry{Key: fmt.Sprintf("k%03d-%03d", i, j), Value: value})
			}
			return PutMany(ctx, tx, "test.checkpoint", rows)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The checkpoint runs within checkpointEvery of the last commit; the
	// wait only bounds a broken checkpointer.
	deadline := time.Now().Add(time.Minute)
	for fileSize(t, path) < before+2_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after 2 MB of commits (%d checkpoints run): the log was not checkpointed", fileSize(t, path), s.ckpt.ran.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ckpt.stop:
	default:
		t.Fatal("the checkpointer was not stopped by Close")
	}
	// What was written reads back after a reopen.
	st, err = Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(ctx, func(tx Tx) error {
		page, err := tx.Scan(ctx, "test.checkpoint", Query{Limit: MaxPageSize})
		if err == nil && len(page.Records) != 500 {
			err = fmt.Errorf("%d records read back, want 500", len(page.Records))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
