package balancer

import (
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
)

// CHash is consistent hashing over a ring of virtual points, 160 per unit
// of weight share, keyed by a request variable, header, cookie, the
// consumer name or a combination of variables (APISIX's hash_on).
type CHash struct {
	points []point
	hashOn string
	key    string
}

type point struct {
	hash uint32
	node *Node
}

// NewCHash builds a ring.
func NewCHash(nodes []*Node, hashOn, key string) (*CHash, error) {
	switch hashOn {
	case "vars", "header", "cookie", "consumer", "vars_combinations":
	default:
		return nil, fmt.Errorf("property \"hash_on\" validation failed: matches none of the enum values")
	}
	if hashOn != "consumer" && key == "" {
		key = "remote_addr"
		if hashOn != "vars" {
			return nil, fmt.Errorf("chash on %s needs a key", hashOn)
		}
	}
	c := &CHash{hashOn: hashOn, key: key}
	for _, n := range nodes {
		for i := 0; i < 160*n.Weight && i < 160*100; i++ {
			c.points = append(c.points, point{crc32.ChecksumIEEE([]byte(n.Addr + "#" + strconv.Itoa(i))), n})
		}
	}
	sort.Slice(c.points, func(i, j int) bool { return c.points[i].hash < c.points[j].hash })
	return c, nil
}

func (c *CHash) hashKey(ks KeySource) string {
	switch c.hashOn {
	case "header":
		return ks.Var("http_" + strings.ReplaceAll(strings.ToLower(c.key), "-", "_"))
	case "cookie":
		return ks.Var("cookie_" + c.key)
	case "consumer":
		return ks.Var("consumer_name")
	case "vars_combinations":
		if r, ok := ks.(interface{ ResolveVars(string) (string, int) }); ok {
			s, _ := r.ResolveVars(c.key)
			return s
		}
	}
	return ks.Var(strings.TrimPrefix(c.key, "$"))
}

// Pick returns the node owning the request's key, or the next ones on the
// ring for retries.
func (c *CHash) Pick(ks KeySource, triedNodes []*Node) *Node {
	if len(c.points) == 0 {
		return nil
	}
	key := c.hashKey(ks)
	if key == "" {
		key = ks.Var("remote_addr") // APISIX falls back to the client address
	}
	h := crc32.ChecksumIEEE([]byte(key))
	i := sort.Search(len(c.points), func(i int) bool { return c.points[i].hash >= h })
	for k := 0; k < len(c.points); k++ {
		n := c.points[(i+k)%len(c.points)].node
		if !tried(triedNodes, n) {
			return n
		}
	}
	return nil
}
