package sqlconn

import (
	"fmt"
	"strconv"
	"strings"
)

// Statement is one statement of a script.
type Statement struct {
	Text   string // without its terminator, trimmed; comments before it kept
	Line   int    // the script line its first token is on, from 1
	Params int    // how many ? placeholders it has
	start  int    // offset in Text of the first token (after comments)
	marks  []mark // placeholders and ?? escapes, by offset in Text
}

type mark struct {
	off    int
	double bool // PostgreSQL ??, a literal ?
}

// SplitScript splits a script into statements at semicolons outside
// string literals, quoted identifiers, comments and (PostgreSQL)
// dollar-quoted strings, following the dialect's lexical rules:
//
//   - PostgreSQL: '…' with ” (backslash escapes only in E'…'), "…",
//     $tag$…$tag$, -- and nested /* */ comments; the body of BEGIN ATOMIC …
//     END is one statement.
//   - MySQL: '…' and "…" with backslash escapes, `…`, #, "-- " and /* */
//     comments; a DELIMITER line, as in the mysql client, changes the
//     terminator, so that procedures with BEGIN … END bodies can be written.
//   - SQLite: '…', "…", `…`, […], -- and /* */; the body of CREATE TRIGGER
//     … BEGIN … END is one statement.
//
// Empty statements and statements of nothing but comments are dropped. It
// returns an error naming the line when a quote, comment or dollar quote is
// not closed.
func SplitScript(d Dialect, script string) ([]Statement, error) {
	return scan(d, script, true)
}

// Rebind returns query with its ? placeholders in the form d's driver
// wants. For PostgreSQL it numbers them $1, $2, … and turns ?? into a
// literal ? (pgJDBC's escape, for operators such as jsonb's ?); MySQL and
// SQLite take ? as it is. A ? in a string literal, quoted identifier or
// comment is left alone. A query that does not lex (an unclosed quote) is
// returned unchanged, for the database to reject.
func Rebind(d Dialect, query string) string {
	stmts, err := scan(d, query, false)
	if err != nil || len(stmts) != 1 || len(stmts[0].marks) == 0 {
		return query
	}
	st := stmts[0]
	// scan trims; put the trimmed ends back so only ? change.
	lead := strings.Index(query, st.Text)
	return query[:lead] + st.rebind(d) + query[lead+len(st.Text):]
}

// rebind returns the statement's text with its placeholders in d's form.
func (st Statement) rebind(d Dialect) string {
	if d != PostgreSQL || len(st.marks) == 0 {
		return st.Text
	}
	var b strings.Builder
	last, n := 0, 0
	for _, m := range st.marks {
		b.WriteString(st.Text[last:m.off])
		if m.double {
			b.WriteByte('?')
			last = m.off + 2
			continue
		}
		n++
		b.WriteString("$" + strconv.Itoa(n))
		last = m.off + 1
	}
	b.WriteString(st.Text[last:])
	return b.String()
}

// excerpt is the start of the statement's first token on, for messages.
func (st Statement) excerpt() string {
	s := strings.Join(strings.Fields(st.Text[st.start:]), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}

// scanner walks a script. It is in code at the top of its loop; strings,
// identifiers and comments are consumed whole.
type scanner struct {
	d     Dialect
	src   string
	split bool
	i     int
	line  int
	delim string

	stmts     []Statement
	begin     int // offset where the current statement begins
	code      int // offset of its first token, -1 before one
	codeLine  int
	marks     []int // absolute offsets of ? placeholders
	doubles   map[int]bool
	header    []string // its first words, upper-cased
	prevWord  string
	depth     int // BEGIN ATOMIC / trigger BEGIN … END blocks open
	caseDepth int // CASE … END open inside them
}

func scan(d Dialect, src string, split bool) ([]Statement, error) {
	s := &scanner{d: d, src: src, split: split, line: 1, delim: ";", code: -1, doubles: map[int]bool{}}
	for s.i < len(src) {
		if err := s.step(); err != nil {
			return s.stmts, err
		}
	}
	s.end(len(src))
	return s.stmts, nil
}

func (s *scanner) peek(k int) byte {
	if s.i+k < len(s.src) {
		return s.src[s.i+k]
	}
	return 0
}

// token marks the start of code in the current statement.
func (s *scanner) token() {
	if s.code < 0 {
		s.code, s.codeLine = s.i, s.line
	}
}

func (s *scanner) step() error {
	c := s.src[s.i]
	switch {
	case s.split && s.depth == 0 && strings.HasPrefix(s.src[s.i:], s.delim):
		s.end(s.i)
		s.i += len(s.delim)
		s.begin = s.i
	case c == '\n':
		s.line++
		s.i++
	case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
		s.i++
	case c == '-' && s.peek(1) == '-' && (s.d != MySQL || isSpace(s.peek(2)) || s.peek(2) == 0):
		s.skipLine()
	case c == '#' && s.d == MySQL:
		s.skipLine()
	case c == '/' && s.peek(1) == '*':
		if s.d == MySQL && (s.peek(2) == '!' || s.peek(2) == '+') {
			s.token() // MySQL runs /*! … */ and reads /*+ … */ hints
		}
		return s.skipBlockComment()
	case c == '\'':
		s.token()
		escapes := s.d == MySQL || (s.d == PostgreSQL && s.i > 0 && (s.src[s.i-1] == 'E' || s.src[s.i-1] == 'e') && (s.i < 2 || !isIdent(s.src[s.i-2])))
		return s.skipQuoted('\'', '\'', escapes, "string literal")
	case c == '"':
		s.token()
		return s.skipQuoted('"', '"', s.d == MySQL, "quoted identifier")
	case c == '`' && s.d != PostgreSQL:
		s.token()
		return s.skipQuoted('`', '`', false, "quoted identifier")
	case c == '[' && s.d == SQLite:
		s.token()
		return s.skipQuoted('[', ']', false, "quoted identifier")
	case c == '$' && s.d == PostgreSQL && (s.i == 0 || !isIdent(s.src[s.i-1])):
		s.token()
		if tag := s.dollarTag(); tag != "" {
			return s.skipDollar(tag)
		}
		s.i++
	case c == '?':
		s.token()
		if s.d == PostgreSQL && s.peek(1) == '?' {
			s.doubles[s.i] = true
			s.marks = append(s.marks, s.i)
			s.i += 2
			return nil
		}
		s.marks = append(s.marks, s.i)
		s.i++
	case isIdentStart(c):
		if s.split && s.d == MySQL && s.code < 0 && s.delimiterDirective() {
			return nil
		}
		s.token()
		start := s.i
		for s.i < len(s.src) && isIdent(s.src[s.i]) {
			if s.split && s.delim != ";" && strings.HasPrefix(s.src[s.i:], s.delim) {
				break // END$$ ends a word when $$ is the delimiter
			}
			s.i++
		}
		if s.i == start {
			s.i++
		}
		s.word(strings.ToUpper(s.src[start:s.i]))
	default:
		s.token()
		s.i++
	}
	return nil
}

// word tracks the blocks inside which a semicolon does not end the
// statement.
func (s *scanner) word(w string) {
	if len(s.header) < 3 {
		s.header = append(s.header, w)
	}
	defer func() { s.prevWord = w }()
	switch {
	case s.depth > 0 && w == "CASE":
		s.caseDepth++
	case s.depth > 0 && w == "END":
		if s.caseDepth > 0 {
			s.caseDepth--
		} else {
			s.depth--
		}
	case s.d == PostgreSQL && w == "ATOMIC" && s.prevWord == "BEGIN":
		s.depth++
	case s.d == SQLite && w == "BEGIN" && s.depth == 0 && s.isTrigger():
		s.depth++
	}
}

// isTrigger reports whether the statement is CREATE [TEMP] TRIGGER.
func (s *scanner) isTrigger() bool {
	h := s.header
	return len(h) >= 2 && h[0] == "CREATE" &&
		(h[1] == "TRIGGER" || len(h) >= 3 && (h[1] == "TEMP" || h[1] == "TEMPORARY") && h[2] == "TRIGGER")
}

// delimiterDirective consumes a mysql-client DELIMITER line at the start
// of a statement, if there is one.
func (s *scanner) delimiterDirective() bool {
	const kw = "DELIMITER"
	rest := s.src[s.i:]
	if len(rest) <= len(kw) || !strings.EqualFold(rest[:len(kw)], kw) || !isSpace(rest[len(kw)]) || rest[len(kw)] == '\n' {
		return false
	}
	line, _, _ := strings.Cut(rest[len(kw):], "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return false
	}
	s.delim = fields[0]
	s.i += len(kw) + len(line)
	s.begin = s.i
	return true
}

// end closes the statement that runs to offset stop.
func (s *scanner) end(stop int) {
	if s.code >= 0 {
		text := strings.TrimRight(s.src[s.begin:stop], " \t\r\n\f\v")
		lead := len(text) - len(strings.TrimLeft(text, " \t\r\n\f\v"))
		from := s.begin + lead
		st := Statement{Text: text[lead:], Line: s.codeLine, start: s.code - from}
		for _, m := range s.marks {
			st.marks = append(st.marks, mark{off: m - from, double: s.doubles[m]})
			if !s.doubles[m] {
				st.Params++
			}
		}
		s.stmts = append(s.stmts, st)
	}
	s.code, s.marks, s.header, s.prevWord, s.depth, s.caseDepth = -1, nil, nil, "", 0, 0
	clear(s.doubles)
}

func (s *scanner) skipLine() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		s.i++
	}
}

func (s *scanner) skipBlockComment() error {
	line := s.line
	depth := 0
	for s.i < len(s.src) {
		switch {
		case s.src[s.i] == '/' && s.peek(1) == '*' && (depth == 0 || s.d == PostgreSQL):
			// PostgreSQL nests block comments; the others end at the first */.
			depth++
			s.i += 2
		case s.src[s.i] == '*' && s.peek(1) == '/':
			depth--
			s.i += 2
			if depth == 0 {
				return nil
			}
		default:
			if s.src[s.i] == '\n' {
				s.line++
			}
			s.i++
		}
	}
	return fmt.Errorf("line %d: comment /* is not closed", line)
}

// skipQuoted consumes a quoted token from its opening quote: a doubled
// closing quote stands for itself, and with escapes a backslash escapes
// the next byte.
func (s *scanner) skipQuoted(open, close byte, escapes bool, what string) error {
	line := s.line
	s.i++
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\n':
			s.line++
			s.i++
		case escapes && c == '\\':
			if s.peek(1) == '\n' {
				s.line++
			}
			s.i += 2
		case c == close && s.peek(1) == close && open == close:
			s.i += 2
		case c == close:
			s.i++
			return nil
		default:
			s.i++
		}
	}
	return fmt.Errorf("line %d: %s opened with %c is not closed", line, what, open)
}

// dollarTag returns the $tag$ (or $$) that opens a dollar-quoted string
// at s.i, or "" when the $ is not one ($1, a lone $).
func (s *scanner) dollarTag() string {
	j := s.i + 1
	for j < len(s.src) && s.src[j] != '$' {
		c := s.src[j]
		if !(isIdentStart(c) || j > s.i+1 && c >= '0' && c <= '9') {
			return ""
		}
		j++
	}
	if j >= len(s.src) {
		return ""
	}
	return s.src[s.i : j+1]
}

func (s *scanner) skipDollar(tag string) error {
	line := s.line
	body := s.src[s.i+len(tag):]
	k := strings.Index(body, tag)
	if k < 0 {
		return fmt.Errorf("line %d: dollar-quoted string %s is not closed", line, tag)
	}
	s.line += strings.Count(body[:k], "\n")
	s.i += len(tag) + k + len(tag)
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// isIdent reports whether c may continue an identifier; PostgreSQL and
// MySQL allow $ there, which is why foo$bar is no dollar quote.
func isIdent(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}
