package expr

import (
	"fmt"
	"unicode/utf8"
)

// tokenKind identifies the kind of a lexical token.
type tokenKind uint8

const (
	tokEOF    tokenKind = iota
	tokIdent            // name, possibly starting with @
	tokInt              // 123
	tokDouble           // 1.5
	tokString           // 'text' or "text"; val holds the unquoted text
	tokLParen
	tokRParen
	tokComma
	tokDot
	tokPlus
	tokMinus
	tokStar
	tokSlash
	tokCaret
	tokRBrace // ends an expression inside a template
)

var tokenNames = [...]string{
	tokEOF: "end of expression", tokIdent: "name", tokInt: "integer", tokDouble: "double",
	tokString: "string", tokLParen: `"("`, tokRParen: `")"`, tokComma: `","`, tokDot: `"."`,
	tokPlus: `"+"`, tokMinus: `"-"`, tokStar: `"*"`, tokSlash: `"/"`, tokCaret: `"^"`,
	tokRBrace: `"}"`,
}

func (k tokenKind) String() string { return tokenNames[k] }

// token is one lexical token. pos is its byte offset in the whole source.
type token struct {
	kind tokenKind
	pos  int
	val  string
}

func (t token) describe() string {
	switch t.kind {
	case tokIdent, tokInt, tokDouble:
		return fmt.Sprintf("%s %s", t.kind, t.val)
	case tokString:
		return fmt.Sprintf("string %q", t.val)
	}
	return t.kind.String()
}

// lexer scans tokens from src starting at pos. It is a plain hand-written
// scanner: the language is small enough that state functions would add
// nothing.
type lexer struct {
	src string
	pos int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// next returns the next token, or a *Error describing a lexical error.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ', '\t', '\n', '\r':
			l.pos++
			continue
		}
		break
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	var k tokenKind
	switch c {
	case '(':
		k = tokLParen
	case ')':
		k = tokRParen
	case ',':
		k = tokComma
	case '.':
		k = tokDot
	case '+':
		k = tokPlus
	case '-':
		k = tokMinus
	case '*':
		k = tokStar
	case '/':
		k = tokSlash
	case '^':
		k = tokCaret
	case '}':
		k = tokRBrace
	case '\'', '"':
		end := l.pos + 1
		for end < len(l.src) && l.src[end] != c {
			end++
		}
		if end >= len(l.src) {
			return token{}, &Error{Src: l.src, Offset: start, Msg: "unterminated string"}
		}
		l.pos = end + 1
		return token{kind: tokString, pos: start, val: l.src[start+1 : end]}, nil
	case '@':
		if l.pos+1 >= len(l.src) || !isLetter(l.src[l.pos+1]) {
			return token{}, &Error{Src: l.src, Offset: start, Msg: `"@" must be followed by a name`}
		}
		l.pos++
		l.scanIdent()
		return token{kind: tokIdent, pos: start, val: l.src[start:l.pos]}, nil
	default:
		switch {
		case isLetter(c):
			l.scanIdent()
			return token{kind: tokIdent, pos: start, val: l.src[start:l.pos]}, nil
		case isDigit(c):
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
			if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
				l.pos++
				for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
					l.pos++
				}
				return token{kind: tokDouble, pos: start, val: l.src[start:l.pos]}, nil
			}
			return token{kind: tokInt, pos: start, val: l.src[start:l.pos]}, nil
		}
		r, _ := utf8.DecodeRuneInString(l.src[start:])
		return token{}, &Error{Src: l.src, Offset: start, Msg: fmt.Sprintf("unexpected character %q", r)}
	}
	l.pos++
	return token{kind: k, pos: start}, nil
}

func (l *lexer) scanIdent() {
	for l.pos < len(l.src) && (isLetter(l.src[l.pos]) || isDigit(l.src[l.pos])) {
		l.pos++
	}
}
