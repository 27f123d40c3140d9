package expr

// Inspect walks the tree rooted at n in depth-first order, calling f for
// each node before its children; if f returns false the node's children are
// skipped. The arguments of a call are visited in source order (for a method
// call, the receiver first). Callers use it to find the names and functions
// an expression uses without evaluating it, as validation does.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *Unary:
		Inspect(n.X, f)
	case *Binary:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Call:
		for _, a := range n.Args {
			Inspect(a, f)
		}
	}
}
