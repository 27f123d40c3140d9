package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

// Expr is one parsed expression body, the text between #{ and }.
type Expr struct {
	src  string
	root Node
}

// Parse parses one expression body, such as
// "format(@scheduledStartTime,'YYYY')", without the #{ } delimiters. Errors
// are *[Error] values naming the position of the problem.
func Parse(src string) (*Expr, error) {
	p := &parser{lex: lexer{src: src}}
	n, err := p.parseTop(tokEOF)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: n}, nil
}

// Root returns the root of the syntax tree.
func (e *Expr) Root() Node { return e.root }

// String returns the expression in canonical form.
func (e *Expr) String() string { return e.root.String() }

// Template is a parsed field value: verbatim text with any number of #{…}
// expressions in it.
type Template struct {
	src   string
	parts []part
}

// part is either verbatim text (node == nil) or one expression.
type part struct {
	text string
	node Node
}

// ParseTemplate parses a field value in which every #{…} is an expression
// and all other text is verbatim. There is no escape for a literal "#{".
// Errors are *[Error] values naming the position of the problem.
func ParseTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	pos := 0
	for {
		i := strings.Index(src[pos:], "#{")
		if i < 0 {
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: src[pos : pos+i]})
		}
		p := &parser{lex: lexer{src: src, pos: pos + i + 2}}
		n, err := p.parseTop(tokRBrace)
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, part{node: n})
		pos = p.lex.pos
	}
	if pos < len(src) {
		t.parts = append(t.parts, part{text: src[pos:]})
	}
	return t, nil
}

// HasExpr reports whether the template contains any expression; a value
// without one evaluates to itself.
func (t *Template) HasExpr() bool {
	for _, p := range t.parts {
		if p.node != nil {
			return true
		}
	}
	return false
}

// Nodes returns the template's expressions in order.
func (t *Template) Nodes() []Node {
	var ns []Node
	for _, p := range t.parts {
		if p.node != nil {
			ns = append(ns, p.node)
		}
	}
	return ns
}

// String returns the template with each expression in canonical form.
func (t *Template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.node == nil {
			b.WriteString(p.text)
			continue
		}
		b.WriteString("#{")
		p.node.writeTo(&b)
		b.WriteString("}")
	}
	return b.String()
}

type parser struct {
	lex   lexer
	tok   token // current token
	depth int
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &Error{Src: p.lex.src, Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected() error {
	return p.errorf(p.tok.pos, "unexpected %s", p.tok.describe())
}

func (p *parser) expect(k tokenKind) error {
	if p.tok.kind != k {
		return p.errorf(p.tok.pos, "unexpected %s, want %s", p.tok.describe(), k)
	}
	return p.advance()
}

// parseTop parses one expression that must be followed by end.
func (p *parser) parseTop(end tokenKind) (Node, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == end {
		return nil, p.errorf(p.tok.pos, "empty expression")
	}
	n, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != end {
		if end == tokRBrace && p.tok.kind == tokEOF {
			return nil, p.errorf(p.tok.pos, `unterminated "#{"`)
		}
		return nil, p.unexpected()
	}
	return n, nil
}

// parseExpr parses additive expressions: term {(+|-) term}.
func (p *parser) parseExpr() (Node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.tok.pos, "expression nested too deeply")
	}
	x, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokPlus || p.tok.kind == tokMinus {
		op := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		y, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		x = &Binary{At: op.pos, Op: opByte(op.kind), X: x, Y: y}
	}
	return x, nil
}

func opByte(k tokenKind) byte {
	switch k {
	case tokPlus:
		return '+'
	case tokMinus:
		return '-'
	case tokStar:
		return '*'
	case tokSlash:
		return '/'
	}
	return '^'
}

// parseTerm parses unary {(*|/) unary}.
func (p *parser) parseTerm() (Node, error) {
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokSlash || p.tok.kind == tokStar {
		op := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		y, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		x = &Binary{At: op.pos, Op: opByte(op.kind), X: x, Y: y}
	}
	return x, nil
}

// parseUnary parses -unary | power.
func (p *parser) parseUnary() (Node, error) {
	if p.tok.kind != tokMinus {
		return p.parsePower()
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.tok.pos, "expression nested too deeply")
	}
	at := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &Unary{At: at, X: x}, nil
}

// parsePower parses postfix [^ unary]; ^ is right-associative and binds
// tighter than unary minus, so -2 ^ 2 is -(2 ^ 2).
func (p *parser) parsePower() (Node, error) {
	x, err := p.parsePostfix()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokCaret {
		return x, nil
	}
	at := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	y, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &Binary{At: at, Op: '^', X: x, Y: y}, nil
}

// parsePostfix parses a primary followed by .name path steps and .f(args)
// method calls.
func (p *parser) parsePostfix() (Node, error) {
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokDot {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokIdent {
			return nil, p.unexpected()
		}
		id := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokLParen {
			if id.val[0] == '@' {
				return nil, p.errorf(id.pos, "%s is not a function", id.val)
			}
			x, err = p.parseCall(id, x)
			if err != nil {
				return nil, err
			}
			continue
		}
		name, ok := x.(*Name)
		if !ok {
			return nil, p.errorf(id.pos, "field reference %s on a value that is not a name", id.val)
		}
		name.Parts = append(name.Parts, id.val)
	}
	return x, nil
}

func (p *parser) parsePrimary() (Node, error) {
	t := p.tok
	switch t.kind {
	case tokInt:
		v, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			return nil, p.errorf(t.pos, "integer %s out of range", t.val)
		}
		return &IntLit{At: t.pos, Value: v}, p.advance()
	case tokDouble:
		v, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.errorf(t.pos, "double %s out of range", t.val)
		}
		return &DoubleLit{At: t.pos, Value: v}, p.advance()
	case tokString:
		return &StringLit{At: t.pos, Value: t.val}, p.advance()
	case tokLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		return x, p.expect(tokRParen)
	case tokStar:
		// A parameter reference such as *myPassword: the "*" must touch
		// the name. After an operand a "*" is always multiplication (a *b),
		// which is why the printer puts spaces around operators.
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokIdent || p.tok.pos != t.pos+1 || p.tok.val[0] == '@' {
			return nil, p.errorf(t.pos, `"*" must be followed by a parameter name`)
		}
		n := &Name{At: t.pos, Parts: []string{"*" + p.tok.val}}
		return n, p.advance()
	case tokIdent:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokLParen {
			if t.val[0] == '@' {
				return nil, p.errorf(t.pos, "%s is not a function", t.val)
			}
			return p.parseCall(t, nil)
		}
		return &Name{At: t.pos, Parts: []string{t.val}}, nil
	}
	return nil, p.unexpected()
}

// parseCall parses the argument list of a call to id; the current token is
// "(". recv is the receiver of a method call, or nil.
func (p *parser) parseCall(id token, recv Node) (Node, error) {
	c := &Call{At: id.pos, Func: id.val, Method: recv != nil}
	if recv != nil {
		c.Args = append(c.Args, recv)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	first := len(c.Args)
	for p.tok.kind != tokRParen {
		if len(c.Args) > first {
			if err := p.expect(tokComma); err != nil {
				return nil, err
			}
		}
		a, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, a)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	fn := lookupBuiltin(c.Func)
	if fn == nil {
		return nil, p.errorf(id.pos, "unknown function %s", c.Func)
	}
	if len(c.Args) != len(fn.params) {
		return nil, p.errorf(id.pos, "%s takes %d arguments, got %d", c.Func, len(fn.params), len(c.Args))
	}
	c.fn = fn
	// A literal pattern or zone is checked once, here, so that a definition
	// holding a bad one is refused when it is put rather than failing
	// each attempt that evaluates it.
	switch c.Func {
	case "format":
		if lit, ok := c.Args[1].(*StringLit); ok {
			l, err := compileJoda(lit.Value)
			if err != nil {
				return nil, p.errorf(lit.At, "format: %v", err)
			}
			c.layout = l
		}
	case "inTimeZone":
		if lit, ok := c.Args[1].(*StringLit); ok {
			if _, err := loadZone(lit.Value); err != nil {
				return nil, p.errorf(lit.At, "inTimeZone: %v", err)
			}
		}
	}
	return c, nil
}
