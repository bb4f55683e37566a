package kql

import "fmt"

// Pos is a position in the query text: a byte offset and the 1-based line and
// column it falls on.
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// String renders the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tReal
	tTimespan
	tString
	tTyped // a typed literal such as datetime(2020-01-01): text is the type, raw the inside
	tPunct
)

// token is one lexeme with its position. For tString, val holds the decoded
// string and text the source spelling.
type token struct {
	kind tokKind
	text string
	val  string
	raw  string
	pos  Pos
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of query"
	}
	return fmt.Sprintf("%q", t.text)
}

// SyntaxError is a parse failure at a position in the query.
type SyntaxError struct {
	Pos Pos
	Msg string
}

// Error renders the failure as "syntax error at line:col: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("syntax error at %d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}
