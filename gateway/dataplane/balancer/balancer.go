// Package balancer picks an upstream node per request: APISIX's weighted
// round robin (nginx's smooth algorithm) and consistent hashing (chash).
package balancer

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"devportal/gateway/apisix"
)

// Node is one target.
type Node struct {
	Host   string
	Port   int
	Addr   string // host:port
	Weight int
}

// Timeouts are an upstream's connect, send and read timeouts.
type Timeouts struct {
	Connect, Send, Read time.Duration
}

// DefaultTimeouts are APISIX's (nginx's proxy_*_timeout 60s).
var DefaultTimeouts = Timeouts{Connect: 60 * time.Second, Send: 60 * time.Second, Read: 60 * time.Second}

// KeySource resolves chash keys for a request.
type KeySource interface {
	Var(name string) string
}

// Picker chooses a node; tried lists the nodes already tried for this
// request (retries), so a picker offers a different one when it can.
type Picker interface {
	Pick(ks KeySource, tried []*Node) *Node
}

// Upstream is a compiled APISIX upstream.
type Upstream struct {
	ID           string
	Scheme       string // http or https (tcp for stream routes)
	PassHost     string // pass, node, rewrite
	UpstreamHost string
	Timeouts     Timeouts
	Retries      int
	Nodes        []*Node
	Picker       Picker
}

// New compiles an upstream; a configuration APISIX would reject is an error.
func New(u *apisix.Upstream) (*Upstream, error) {
	out := &Upstream{ID: u.ID, Scheme: u.Scheme, PassHost: u.PassHost, UpstreamHost: u.UpstreamHost, Timeouts: DefaultTimeouts}
	if out.Scheme == "" {
		out.Scheme = "http"
	}
	switch out.Scheme {
	case "http", "https", "tcp", "udp":
	default:
		return nil, fmt.Errorf("upstream scheme %q is not supported by this node", out.Scheme)
	}
	if out.PassHost == "" {
		out.PassHost = "pass"
	}
	switch out.PassHost {
	case "pass", "node":
	case "rewrite":
		if out.UpstreamHost == "" {
			return nil, fmt.Errorf("pass_host rewrite needs upstream_host")
		}
	default:
		return nil, fmt.Errorf("property \"pass_host\" validation failed: matches none of the enum values")
	}
	if t := u.Timeout; t != nil {
		if t.Connect < 0 || t.Send < 0 || t.Read < 0 {
			return nil, fmt.Errorf("timeouts must be positive")
		}
		out.Timeouts = MergeTimeouts(out.Timeouts, t)
	}
	for _, n := range u.Nodes {
		if n.Host == "" {
			return nil, fmt.Errorf("node without host")
		}
		if n.Weight < 0 {
			return nil, fmt.Errorf("node %s: weight must be >= 0", n.Host)
		}
		if n.Weight == 0 {
			continue
		}
		port := n.Port
		host := n.Host
		if port == 0 {
			if h, p, err := net.SplitHostPort(n.Host); err == nil {
				host = h
				port, _ = strconv.Atoi(p)
			} else if out.Scheme == "https" {
				port = 443
			} else {
				port = 80
			}
		}
		host = strings.Trim(host, "[]")
		out.Nodes = append(out.Nodes, &Node{Host: host, Port: port, Addr: net.JoinHostPort(host, strconv.Itoa(port)), Weight: n.Weight})
	}
	out.Retries = len(out.Nodes) - 1
	if u.Retries != nil {
		if *u.Retries < 0 {
			return nil, fmt.Errorf("retries must be >= 0")
		}
		out.Retries = *u.Retries
	}
	switch u.Type {
	case "", "roundrobin", "least_conn", "ewma":
		// least_conn and ewma fall back to weighted round robin here.
		out.Picker = NewRoundRobin(out.Nodes)
	case "chash":
		hashOn := u.HashOn
		if hashOn == "" {
			hashOn = "vars"
		}
		p, err := NewCHash(out.Nodes, hashOn, u.Key)
		if err != nil {
			return nil, err
		}
		out.Picker = p
	default:
		return nil, fmt.Errorf("upstream type %q is not supported", u.Type)
	}
	return out, nil
}

// MergeTimeouts overrides d with the timeouts t sets.
func MergeTimeouts(d Timeouts, t *apisix.Timeout) Timeouts {
	if t == nil {
		return d
	}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	if t.Connect > 0 {
		d.Connect = sec(t.Connect)
	}
	if t.Send > 0 {
		d.Send = sec(t.Send)
	}
	if t.Read > 0 {
		d.Read = sec(t.Read)
	}
	return d
}

func tried(list []*Node, n *Node) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
