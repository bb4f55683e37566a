package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errTooLarge is a record over the size cap; the splitter skips it.
var errTooLarge = errors.New("record too large")

// splitter cuts a JSON stream into raw values without decoding them, so
// one malformed record does not stop the others: values are delimited by
// bracket depth and string state only, and each is decoded on its own.
// It tracks line numbers for error messages.
type splitter struct {
	r    *bufio.Reader
	line int
	max  int
	// borrow lets elements hand fn array elements that still lie in the
	// reader's buffer (valid until fn returns) instead of copies: fn
	// copies what it keeps.
	borrow bool
}

func newSplitter(r *bufio.Reader, max int) *splitter { return &splitter{r: r, line: 1, max: max} }

// peek returns the next non-space byte without consuming it.
func (s *splitter) peek() (byte, error) {
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case '\n':
			s.line++
			continue
		case ' ', '\t', '\r':
			continue
		case 0xEF: // a UTF-8 byte order mark
			if bom, _ := s.r.Peek(2); bytes.Equal(bom, []byte{0xBB, 0xBF}) {
				_, _ = s.r.Discard(2)
				continue
			}
		}
		return b, s.r.UnreadByte()
	}
}

// expect consumes the next non-space byte, which must be one of want.
func (s *splitter) expect(want string) (byte, error) {
	b, err := s.peek()
	if err != nil {
		return 0, s.eof(err)
	}
	if bytes.IndexByte([]byte(want), b) < 0 {
		return 0, fmt.Errorf("line %d: unexpected %q, want one of %q", s.line, b, want)
	}
	_, _ = s.r.ReadByte()
	return b, nil
}

func (s *splitter) eof(err error) error {
	if err == io.EOF {
		return fmt.Errorf("line %d: unexpected end of input", s.line)
	}
	return err
}

// value reads one raw JSON value (object, array, string or scalar). A
// value over the cap is consumed and reported as errTooLarge. An error
// other than errTooLarge means the stream cannot be resynchronised. The
// slice returned is the caller's (never the reader's buffer).
func (s *splitter) value() ([]byte, error) { return s.read(false) }

// read is value; with borrow, a value found whole in the reader's buffer
// is returned in place, valid until the next read.
func (s *splitter) read(borrow bool) ([]byte, error) {
	first, err := s.peek()
	if err != nil {
		return nil, s.eof(err)
	}
	if first != '{' && first != '[' && first != '"' {
		return s.scalar()
	}
	var buf []byte
	st := scanState{}
	tooLarge := false
	for {
		// scan what the reader holds in one go rather than byte by byte:
		// splitting is on the scan's critical path (one goroutine)
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				if err == io.EOF && st.depth == 0 && !st.inStr && len(buf) > 0 {
					return s.done(buf, tooLarge)
				}
				return nil, s.eof(err)
			}
		}
		chunk, _ := s.r.Peek(s.r.Buffered())
		n, end, lines, bad := st.scan(chunk)
		s.line += lines
		if !tooLarge {
			if len(buf)+n > s.max {
				tooLarge, buf = true, nil
			} else if buf == nil && end && borrow {
				buf = chunk[:n:n]
			} else if buf == nil && end {
				buf = bytes.Clone(chunk[:n])
			} else {
				buf = append(buf, chunk[:n]...)
			}
		}
		_, _ = s.r.Discard(n)
		if bad != 0 {
			return nil, fmt.Errorf("line %d: unbalanced %q", s.line, bad)
		}
		if end {
			return s.done(buf, tooLarge)
		}
	}
}

// scanState is the splitter's view of a value being read: bracket depth
// and string state.
type scanState struct {
	depth      int
	inStr, esc bool
}

// scan advances over b until the value ends, returning how many bytes
// it consumed, whether the value ended there, the newlines seen, and
// the closing bracket that went below depth zero (0 when none).
func (st *scanState) scan(b []byte) (n int, end bool, lines int, bad byte) {
	depth, inStr, esc := st.depth, st.inStr, st.esc
	defer func() { st.depth, st.inStr, st.esc = depth, inStr, esc }()
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			if esc {
				esc = false
				if c == '\n' {
					lines++
				}
				continue
			}
			// skip to the next quote or backslash
			j := i
			for j < len(b) && b[j] != '"' && b[j] != '\\' {
				j++
			}
			lines += bytes.Count(b[i:j], newline)
			if j == len(b) {
				return len(b), false, lines, 0
			}
			i = j
			if b[j] == '\\' {
				esc = true
				continue
			}
			inStr = false
			if depth == 0 {
				return i + 1, true, lines, 0
			}
			continue
		}
		switch c {
		case '\n':
			lines++
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true, lines, 0
			}
			if depth < 0 {
				return i + 1, false, lines, c
			}
		}
	}
	return len(b), false, lines, 0
}

var newline = []byte{'\n'}

// scalar reads a number, true, false or null: up to the next delimiter.
func (s *splitter) scalar() ([]byte, error) {
	var buf []byte
	for {
		b, err := s.r.ReadByte()
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if bytes.IndexByte([]byte(",]} \t\r\n"), b) >= 0 {
			_ = s.r.UnreadByte()
			return buf, nil
		}
		if len(buf) >= 64 {
			return nil, fmt.Errorf("line %d: malformed value", s.line)
		}
		buf = append(buf, b)
	}
}

func (s *splitter) done(buf []byte, tooLarge bool) ([]byte, error) {
	if tooLarge {
		return nil, errTooLarge
	}
	return buf, nil
}

// elements calls fn with each element of the array whose '[' is next,
// and its index (raw in the reader's buffer when borrow is set: fn must
// not keep it). fn errors stop the walk.
func (s *splitter) elements(fn func(i, line int, raw []byte, err error) error) error {
	if _, err := s.expect("["); err != nil {
		return err
	}
	if b, err := s.peek(); err != nil {
		return s.eof(err)
	} else if b == ']' {
		_, _ = s.r.ReadByte()
		return nil
	}
	for i := 0; ; i++ {
		if _, err := s.peek(); err != nil {
			return s.eof(err)
		}
		line := s.line
		raw, err := s.read(s.borrow)
		if err != nil && err != errTooLarge {
			return err
		}
		if err := fn(i, line, raw, err); err != nil {
			return err
		}
		if b, err := s.expect(",]"); err != nil {
			return err
		} else if b == ']' {
			return nil
		}
	}
}
