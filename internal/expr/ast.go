package expr

import (
	"strconv"
	"strings"
)

// Node is a node of an expression's syntax tree. String returns canonical
// source for the node; parsing that source again yields an equal tree.
// Trees returned by the parser must be treated as read-only, which is what
// lets one parsed expression be evaluated from many goroutines.
type Node interface {
	// Pos returns the byte offset of the node in the parsed source.
	Pos() int
	String() string
	writeTo(b *strings.Builder)
	prec() int
}

// Operator precedence, lowest first. The printer uses it to add exactly the
// parentheses the tree needs.
const (
	precAdd = iota + 1
	precMul
	precUnary
	precPow
	precPrimary
)

// StringLit is a string literal, written in single or double quotes.
type StringLit struct {
	At    int
	Value string
}

// IntLit is a non-negative integer literal; -1 is a [Unary] minus.
type IntLit struct {
	At    int
	Value int64
}

// DoubleLit is a non-negative floating-point literal such as 1.5.
type DoubleLit struct {
	At    int
	Value float64
}

// Name is a reference to a field, runtime field or parameter, possibly
// through reference fields: Parts is ["input", "directoryPath"] for
// input.directoryPath, ["@scheduledStartTime"] or ["*myPassword"].
type Name struct {
	At    int
	Parts []string
}

// Unary is a unary minus.
type Unary struct {
	At int
	X  Node
}

// Binary is an arithmetic or concatenation operation. Op is one of + - * / ^.
type Binary struct {
	At   int
	Op   byte
	X, Y Node
}

// Call is a function call. Method records that it was written in method
// form, x.f(y) rather than f(x, y); the two mean the same.
type Call struct {
	At     int
	Func   string
	Args   []Node
	Method bool

	fn     *builtin
	layout *jodaLayout // precompiled pattern of format(x, 'literal')
}

func (n *StringLit) Pos() int { return n.At }
func (n *IntLit) Pos() int    { return n.At }
func (n *DoubleLit) Pos() int { return n.At }
func (n *Name) Pos() int      { return n.At }
func (n *Unary) Pos() int     { return n.At }
func (n *Binary) Pos() int    { return n.At }
func (n *Call) Pos() int      { return n.At }

func (n *StringLit) prec() int { return precPrimary }
func (n *IntLit) prec() int    { return precPrimary }
func (n *DoubleLit) prec() int { return precPrimary }
func (n *Name) prec() int      { return precPrimary }
func (n *Unary) prec() int     { return precUnary }
func (n *Call) prec() int      { return precPrimary }
func (n *Binary) prec() int {
	switch n.Op {
	case '+', '-':
		return precAdd
	case '*', '/':
		return precMul
	}
	return precPow
}

func nodeString(n Node) string {
	var b strings.Builder
	n.writeTo(&b)
	return b.String()
}

func (n *StringLit) String() string { return nodeString(n) }
func (n *IntLit) String() string    { return nodeString(n) }
func (n *DoubleLit) String() string { return nodeString(n) }
func (n *Name) String() string      { return nodeString(n) }
func (n *Unary) String() string     { return nodeString(n) }
func (n *Binary) String() string    { return nodeString(n) }
func (n *Call) String() string      { return nodeString(n) }

// writeTo prints the literal in single quotes, or in double quotes if the
// text holds a single quote. The language has no escapes, so text holding
// both quote characters cannot come from the parser.
func (n *StringLit) writeTo(b *strings.Builder) {
	q := "'"
	if strings.Contains(n.Value, "'") {
		q = `"`
	}
	b.WriteString(q)
	b.WriteString(n.Value)
	b.WriteString(q)
}

func (n *IntLit) writeTo(b *strings.Builder) { b.WriteString(strconv.FormatInt(n.Value, 10)) }

func (n *DoubleLit) writeTo(b *strings.Builder) {
	s := strconv.FormatFloat(n.Value, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	b.WriteString(s)
}

func (n *Name) writeTo(b *strings.Builder) { b.WriteString(strings.Join(n.Parts, ".")) }

func (n *Unary) writeTo(b *strings.Builder) {
	b.WriteByte('-')
	writeOperand(b, n.X, n.X.prec() < precUnary)
}

func (n *Binary) writeTo(b *strings.Builder) {
	p := n.prec()
	leftParen, rightParen := n.X.prec() < p, n.Y.prec() <= p
	if n.Op == '^' { // right-associative
		leftParen, rightParen = n.X.prec() <= p, n.Y.prec() < p
	}
	writeOperand(b, n.X, leftParen)
	b.WriteByte(' ')
	b.WriteByte(n.Op)
	b.WriteByte(' ')
	writeOperand(b, n.Y, rightParen)
}

func (n *Call) writeTo(b *strings.Builder) {
	args := n.Args
	if n.Method {
		writeOperand(b, args[0], args[0].prec() < precPrimary)
		b.WriteByte('.')
		args = args[1:]
	}
	b.WriteString(n.Func)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		a.writeTo(b)
	}
	b.WriteByte(')')
}

func writeOperand(b *strings.Builder, n Node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	n.writeTo(b)
	if paren {
		b.WriteByte(')')
	}
}
