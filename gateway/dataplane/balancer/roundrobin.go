package balancer

import (
	"sync"
	"sync/atomic"
)

// maxSeq bounds the precomputed schedule; larger total weights use a lock.
const maxSeq = 4096

// RoundRobin is nginx's smooth weighted round robin. For total weights up
// to maxSeq the schedule is computed once and walked with an atomic counter,
// so the hot path takes no lock.
type RoundRobin struct {
	nodes []*Node
	seq   []*Node
	next  atomic.Uint64

	mu      sync.Mutex
	current []int
}

// NewRoundRobin builds a picker over nodes (weights > 0).
func NewRoundRobin(nodes []*Node) *RoundRobin {
	r := &RoundRobin{nodes: nodes, current: make([]int, len(nodes))}
	total := 0
	g := 0
	for _, n := range nodes {
		total += n.Weight
		g = gcd(g, n.Weight)
	}
	if len(nodes) == 0 {
		return r
	}
	if total/g <= maxSeq {
		cur := make([]int, len(nodes))
		for i := 0; i < total/g; i++ {
			r.seq = append(r.seq, r.smooth(cur, g))
		}
	}
	return r
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (r *RoundRobin) smooth(cur []int, g int) *Node {
	best := -1
	total := 0
	for i, n := range r.nodes {
		w := n.Weight / g
		cur[i] += w
		total += w
		if best < 0 || cur[i] > cur[best] {
			best = i
		}
	}
	cur[best] -= total
	return r.nodes[best]
}

// Pick returns the next node, skipping nodes already tried when it can.
func (r *RoundRobin) Pick(_ KeySource, triedNodes []*Node) *Node {
	if len(r.nodes) == 0 {
		return nil
	}
	for attempt := 0; attempt <= len(r.nodes); attempt++ {
		var n *Node
		if r.seq != nil {
			n = r.seq[(r.next.Add(1)-1)%uint64(len(r.seq))]
		} else {
			r.mu.Lock()
			n = r.smooth(r.current, 1)
			r.mu.Unlock()
		}
		if !tried(triedNodes, n) {
			return n
		}
	}
	return nil
}
