package router

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Vars is a route's "vars": a list of conditions that must all hold, in
// lua-resty-expr's form [["arg_name", "==", "json"], ["http_x", "!", "~~", "^a"]].
type Vars struct {
	conds []cond
}

type cond struct {
	name   string
	not    bool
	op     string
	str    string
	num    float64
	isNum  bool
	re     *regexp.Regexp
	list   []string
	prefix []netip.Prefix
}

// ParseVars compiles a route's vars; an expression APISIX would reject is an error.
func ParseVars(raw json.RawMessage) (*Vars, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items [][]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("vars: want a list of [var, operator, value]: %w", err)
	}
	v := &Vars{}
	for _, it := range items {
		var c cond
		if len(it) < 3 {
			return nil, fmt.Errorf("vars: expression %s too short", it)
		}
		if err := json.Unmarshal(it[0], &c.name); err != nil {
			return nil, fmt.Errorf("vars: variable name must be a string")
		}
		rest := it[1:]
		var op string
		if err := json.Unmarshal(rest[0], &op); err != nil {
			return nil, fmt.Errorf("vars: operator must be a string")
		}
		if op == "!" {
			c.not = true
			rest = rest[1:]
			if len(rest) < 2 || json.Unmarshal(rest[0], &op) != nil {
				return nil, fmt.Errorf("vars: bad negated expression")
			}
		}
		if len(rest) != 2 {
			return nil, fmt.Errorf("vars: expression %s has extra items", it)
		}
		c.op = op
		val := rest[1]
		switch op {
		case "==", "~=":
			var f float64
			if err := json.Unmarshal(val, &f); err == nil {
				c.num, c.isNum = f, true
			} else if err := json.Unmarshal(val, &c.str); err != nil {
				return nil, fmt.Errorf("vars: %s wants a string or number", op)
			}
		case ">", "<", ">=", "<=":
			if err := json.Unmarshal(val, &c.num); err != nil {
				return nil, fmt.Errorf("vars: %s wants a number", op)
			}
		case "~~", "~*":
			if err := json.Unmarshal(val, &c.str); err != nil {
				return nil, fmt.Errorf("vars: %s wants a regex string", op)
			}
			pat := c.str
			if op == "~*" {
				pat = "(?i)" + pat
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				return nil, fmt.Errorf("vars: %w", err)
			}
			c.re = re
		case "in":
			var list []any
			if err := json.Unmarshal(val, &list); err != nil {
				return nil, fmt.Errorf("vars: in wants a list")
			}
			for _, x := range list {
				c.list = append(c.list, fmt.Sprint(x))
			}
		case "has":
			if err := json.Unmarshal(val, &c.str); err != nil {
				return nil, fmt.Errorf("vars: has wants a string")
			}
		case "ipmatch":
			var list []string
			if err := json.Unmarshal(val, &list); err != nil {
				var one string
				if err := json.Unmarshal(val, &one); err != nil {
					return nil, fmt.Errorf("vars: ipmatch wants CIDRs")
				}
				list = []string{one}
			}
			for _, s := range list {
				p, err := ParsePrefix(s)
				if err != nil {
					return nil, err
				}
				c.prefix = append(c.prefix, p)
			}
		default:
			return nil, fmt.Errorf("vars: unknown operator %q", op)
		}
		v.conds = append(v.conds, c)
	}
	return v, nil
}

// ParsePrefix reads an IP or a CIDR.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("bad CIDR %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad IP %q", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Match tells whether all conditions hold.
func (v *Vars) Match(get func(string) string) bool {
	for i := range v.conds {
		c := &v.conds[i]
		var val string
		if get != nil {
			val = get(c.name)
		}
		if c.eval(val) == c.not {
			return false
		}
	}
	return true
}

func (c *cond) eval(val string) bool {
	switch c.op {
	case "==", "~=":
		var eq bool
		if c.isNum {
			f, err := strconv.ParseFloat(val, 64)
			eq = err == nil && f == c.num
		} else {
			eq = val == c.str
		}
		return eq == (c.op == "==")
	case ">", "<", ">=", "<=":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return false
		}
		switch c.op {
		case ">":
			return f > c.num
		case "<":
			return f < c.num
		case ">=":
			return f >= c.num
		}
		return f <= c.num
	case "~~", "~*":
		return val != "" && c.re.MatchString(val)
	case "in":
		for _, s := range c.list {
			if s == val {
				return true
			}
		}
		return false
	case "has":
		return strings.Contains(val, c.str)
	case "ipmatch":
		a, err := netip.ParseAddr(val)
		if err != nil {
			return false
		}
		for _, p := range c.prefix {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
	}
	return false
}
