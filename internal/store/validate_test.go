package store

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixEndBoundsExactlyThePrefixRange(t *testing.T) {
	cases := []struct{ prefix, want string }{
		{"a", "b"},
		{"a/", "a0"},
		{"/subscriptions/s1/", "/subscriptions/s10"},
		{"\u00ff", "\u0100"},
		{"a\U0010FFFF", "b"},
		{"\U0010FFFF\U0010FFFF", ""},
		{"\ud7ff", "\ue000"},
		{"", ""},
	}
	for _, c := range cases {
		if got := prefixEnd(c.prefix); got != c.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
}

// FuzzPrefixEnd checks the property Scan relies on: every string with the
// prefix sorts below the bound, and the bound itself lacks the prefix.
func FuzzPrefixEnd(f *testing.F) {
	for _, s := range []string{"a", "a/b", "é", "\U0010FFFF", "\ud7ff/x", "日本/語"} {
		f.Add(s, "tail")
	}
	f.Fuzz(func(t *testing.T, prefix, tail string) {
		if !utf8.ValidString(prefix) || !utf8.ValidString(tail) || prefix == "" {
			return
		}
		end := prefixEnd(prefix)
		if end == "" {
			if strings.Trim(prefix, "\U0010FFFF") != "" {
				t.Fatalf("no bound for %q", prefix)
			}
			return
		}
		if !utf8.ValidString(end) || strings.HasPrefix(end, prefix) || !(prefix+tail < end) || end <= prefix {
			t.Fatalf("prefixEnd(%q) = %q does not bound %q", prefix, end, prefix+tail)
		}
	})
}

func TestContinuationTokenRoundTrips(t *testing.T) {
	for _, k := range []string{"a", "/subscriptions/x/resourceGroups/y", "日本語", "\U0010FFFF"} {
		got, err := decodeToken(encodeToken(k))
		if err != nil || got != k {
			t.Errorf("token of %q decodes to %q, %v", k, got, err)
		}
	}
}

func TestMalformedTokensAreInvalid(t *testing.T) {
	for _, tok := range []string{"x", "k1.", "k1.***", "k1." + "AA", "k2.YQ", encodeToken("a\x00b"), "k1.__8"} {
		if _, err := decodeToken(tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("decodeToken(%q): %v, want ErrInvalid", tok, err)
		}
	}
}

// FuzzDecodeToken feeds arbitrary tokens, as a client could send back:
// the decoder must reject or return a valid key, never panic.
func FuzzDecodeToken(f *testing.F) {
	for _, s := range []string{encodeToken("a"), encodeToken("日本"), "k1.", "garbage", "k1.____"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		key, err := decodeToken(tok)
		if err == nil && checkKey(key) != nil {
			t.Fatalf("decoded invalid key %q", key)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v is not ErrInvalid", err)
		}
	})
}

func TestRebind(t *testing.T) {
	cases := []struct {
		d        Dialect
		in, want string
	}{
		{Postgres, "SELECT a FROM t WHERE a = ? AND b > ?", "SELECT a FROM t WHERE a = $1 AND b > $2"},
		{Postgres, "SELECT 1", "SELECT 1"},
		{SQLite, "SELECT a FROM t WHERE a = ?", "SELECT a FROM t WHERE a = ?"},
	}
	for _, c := range cases {
		if got := c.d.Rebind(c.in); got != c.want {
			t.Errorf("%s.Rebind(%q) = %q, want %q", c.d, c.in, got, c.want)
		}
	}
}

func TestETagParsesOnlyItsOwnFormat(t *testing.T) {
	for _, rev := range []int64{1, 35, 36, 1 << 40} {
		if got, ok := parseETag(formatETag(rev)); !ok || got != rev {
			t.Errorf("etag of %d parses to %d, %v", rev, got, ok)
		}
	}
	for _, e := range []string{"", "r", "1", "r-1", "r0", "W/\"r1\"", "rzzzzzzzzzzzzzzzzzz"} {
		if _, ok := parseETag(e); ok {
			t.Errorf("parseETag(%q) accepted", e)
		}
	}
}
