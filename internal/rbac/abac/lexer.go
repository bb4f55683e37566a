package abac

import (
	"fmt"
	"strings"
)

// tokenKind classifies a lexical token of the condition language.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokLParen           // (
	tokRParen           // )
	tokLBrace           // {
	tokRBrace           // }
	tokComma            // ,
	tokNot              // ! (the word NOT is a tokWord)
	tokAnd              // && (the word AND is a tokWord)
	tokOr               // || (the word OR is a tokWord)
	tokString           // 'text', value without the quotes
	tokAttr             // @Source[name], value is the whole spelling
	tokWord             // identifiers, operators, numbers, GUIDs, true/false
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of condition"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokLBrace:
		return "'{'"
	case tokRBrace:
		return "'}'"
	case tokComma:
		return "','"
	case tokNot:
		return "'!'"
	case tokAnd:
		return "'&&'"
	case tokOr:
		return "'||'"
	case tokString:
		return "string"
	case tokAttr:
		return "attribute"
	case tokWord:
		return "word"
	}
	return fmt.Sprintf("token(%d)", int(k))
}

// token is one lexeme with its byte offset in the input.
type token struct {
	kind tokenKind
	val  string
	pos  int
}

// isWordByte reports whether c can appear in a bare word: operator names
// such as ForAnyOfAnyValues:GuidEquals, numbers, GUIDs and true/false.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == ':' || c == '+'
}

// lex splits a condition into tokens. It fails on characters the language
// does not use and on unterminated strings or attributes.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '{':
			toks = append(toks, token{tokLBrace, "{", i})
			i++
		case c == '}':
			toks = append(toks, token{tokRBrace, "}", i})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", i})
			i++
		case c == '!':
			toks = append(toks, token{tokNot, "!", i})
			i++
		case c == '&' || c == '|':
			if i+1 >= len(src) || src[i+1] != c {
				return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected %q (did you mean %q?)", c, string([]byte{c, c}))}
			}
			k := tokAnd
			if c == '|' {
				k = tokOr
			}
			toks = append(toks, token{k, src[i : i+2], i})
			i += 2
		case c == '\'':
			end := strings.IndexByte(src[i+1:], '\'')
			if end < 0 {
				return nil, &SyntaxError{Pos: i, Msg: "unterminated string"}
			}
			toks = append(toks, token{tokString, src[i+1 : i+1+end], i})
			i += end + 2
		case c == '@':
			open := strings.IndexByte(src[i:], '[')
			if open < 0 {
				return nil, &SyntaxError{Pos: i, Msg: "attribute must be written @Source[name]"}
			}
			for _, b := range []byte(src[i+1 : i+open]) {
				if !isWordByte(b) {
					return nil, &SyntaxError{Pos: i, Msg: "attribute must be written @Source[name]"}
				}
			}
			close := strings.IndexByte(src[i+open:], ']')
			if close < 0 {
				return nil, &SyntaxError{Pos: i, Msg: "unterminated attribute name (missing ']')"}
			}
			end := i + open + close + 1
			toks = append(toks, token{tokAttr, src[i:end], i})
			i = end
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, token{tokWord, src[i:j], i})
			i = j
		default:
			return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	toks = append(toks, token{tokEOF, "", len(src)})
	return toks, nil
}
