package pipeline

import "strings"

// checkCycles reports every object that waits on itself. An object waits on
// what it names in dependsOn, an activity on its inputs, and an activity's
// outputs on the activity, so a loop through any mix of these deadlocks the
// pipeline: every instance on it stays WAITING_ON_DEPENDENCIES (§7.3).
//
// Each object on a loop gets one message naming a shortest loop through it,
// in definition order. References are taken from effective views, since
// dependsOn, input and output may be inherited.
func (v *ruleChecker) checkCycles() {
	n := len(v.def.Objects)
	adj := make([][]int32, n)
	edges := 0
	for i := range v.def.Objects {
		t := v.types[i]
		if !v.live[i] || t == nil {
			continue
		}
		for _, f := range v.effective(i).Fields {
			if f.RefValue == nil {
				continue
			}
			j, ok := v.r.index[*f.RefValue]
			if !ok || !v.live[j] {
				continue
			}
			switch f.Key {
			case "dependsOn":
				adj[i] = append(adj[i], int32(j))
			case "input":
				if t.Kind == KindActivity {
					adj[i] = append(adj[i], int32(j))
				}
			case "output":
				if t.Kind == KindActivity {
					adj[j] = append(adj[j], int32(i))
				}
			default:
				continue
			}
			edges++
		}
	}
	if edges == 0 {
		return
	}
	comp := stronglyConnected(adj)
	size := make([]int, n)
	for _, c := range comp {
		if c >= 0 {
			size[c]++
		}
	}
	for i := range v.def.Objects {
		c := comp[i]
		if c < 0 {
			continue
		}
		if size[c] == 1 && !containsInt32(adj[i], int32(i)) {
			continue
		}
		loop := shortestLoop(adj, comp, i)
		ids := make([]string, len(loop))
		for k, j := range loop {
			ids[k] = "'" + v.def.Objects[j].ID + "'"
		}
		v.err(i, CodeCyclicDependency, "The object waits on itself through dependsOn, input and output references: %s; "+
			"remove one of these references.", strings.Join(ids, " -> "))
	}
}

func containsInt32(s []int32, x int32) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// stronglyConnected labels each node with its strongly connected component
// (Tarjan's algorithm, iterative so that long chains cannot exhaust the
// stack).
func stronglyConnected(adj [][]int32) []int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	comp := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i], comp[i] = -1, -1
	}
	var stack []int
	type frame struct{ node, next int }
	var call []frame
	counter, ncomp := 0, 0
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call = append(call, frame{root, 0})
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			u := f.node
			if f.next < len(adj[u]) {
				w := int(adj[u][f.next])
				f.next++
				if index[w] < 0 {
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[u] = min(low[u], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].node
				low[p] = min(low[p], low[u])
			}
			if low[u] == index[u] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == u {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp
}

// shortestLoop returns a shortest path from start back to itself inside
// start's component, start first and last. Breadth-first search over
// adjacency in field order keeps the answer deterministic.
func shortestLoop(adj [][]int32, comp []int, start int) []int {
	prev := map[int]int{}
	queue := []int{}
	for _, w := range adj[start] {
		w := int(w)
		if w == start {
			return []int{start, start}
		}
		if _, seen := prev[w]; !seen && comp[w] == comp[start] {
			prev[w] = start
			queue = append(queue, w)
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, w := range adj[u] {
			w := int(w)
			if w == start {
				path := []int{start}
				for x := u; x != start; x = prev[x] {
					path = append(path, x)
				}
				path = append(path, start)
				// path is start, u, …, first hop, start: reverse the middle.
				for a, b := 1, len(path)-2; a < b; a, b = a+1, b-1 {
					path[a], path[b] = path[b], path[a]
				}
				return path
			}
			if _, seen := prev[w]; !seen && comp[w] == comp[start] {
				prev[w] = u
				queue = append(queue, w)
			}
		}
	}
	return []int{start, start} // unreachable for a node on a loop
}
