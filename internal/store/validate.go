package store

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on names and values.
const (
	MaxTableLen = 64
	MaxKeyLen   = 1024
	MaxValueLen = 64 << 20
)

func checkTable(table string) error {
	if table == "" || len(table) > MaxTableLen {
		return fmt.Errorf("%w: table name must be 1 to %d characters", ErrInvalid, MaxTableLen)
	}
	for i := 0; i < len(table); i++ {
		c := table[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%w: table name %q may only hold [a-z0-9_.-]", ErrInvalid, table)
		}
	}
	return nil
}

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	}
	return checkText("key", key)
}

// checkText rejects what a PostgreSQL text column cannot hold.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s contains NUL", ErrInvalid, what)
	}
	return nil
}

// tokenPrefix versions the continuation token format.
const tokenPrefix = "k1."

// encodeToken makes the continuation token that resumes after key.
func encodeToken(key string) string {
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// decodeToken returns the key a continuation token resumes after.
func decodeToken(tok string) (string, error) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", fmt.Errorf("%w: malformed continuation token", ErrInvalid)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("%w: malformed continuation token", ErrInvalid)
	}
	if err := checkKey(string(b)); err != nil {
		return "", fmt.Errorf("%w: malformed continuation token", ErrInvalid)
	}
	return string(b), nil
}

// prefixEnd returns the smallest string greater than every string that
// starts with prefix, or "" when there is none (the prefix is all U+10FFFF).
// UTF-8 byte order is code point order, so incrementing the last code point
// (stepping over the surrogate range) gives that bound.
func prefixEnd(prefix string) string {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		if r == utf8.MaxRune {
			continue
		}
		r++
		if r == 0xD800 {
			r = 0xE000
		}
		return prefix + string(r)
	}
	return ""
}

// keyRange turns a Query into a lower bound lo (inclusive), after
// (exclusive, "" for none) and an upper bound hi (exclusive, "" for none).
// empty reports that the range selects nothing.
func keyRange(q Query) (lo, after, hi string, empty bool, err error) {
	for _, s := range []struct{ what, v string }{{"prefix", q.Prefix}, {"start", q.Start}, {"end", q.End}} {
		if len(s.v) > MaxKeyLen {
			return "", "", "", false, fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, s.what, MaxKeyLen)
		}
		if err := checkText(s.what, s.v); err != nil {
			return "", "", "", false, err
		}
	}
	if q.After != "" {
		if after, err = decodeToken(q.After); err != nil {
			return "", "", "", false, err
		}
	}
	lo = max(q.Prefix, q.Start)
	hi = q.End
	if q.Prefix != "" {
		if pe := prefixEnd(q.Prefix); pe != "" && (hi == "" || pe < hi) {
			hi = pe
		}
	}
	if hi != "" && (lo >= hi || after >= hi) {
		return lo, after, hi, true, nil
	}
	return lo, after, hi, false, nil
}
