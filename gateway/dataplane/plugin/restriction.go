package plugin

import (
	"encoding/json"
	"fmt"

	"devportal/gateway/dataplane/internal/jsonscan"
)

// Restriction is APISIX's consumer-restriction: a whitelist, blacklist or
// per-user method list on the consumer name (or route, service or consumer
// group id). Lists are hash sets, not APISIX's linear scan.
type Restriction struct {
	Type         string   `json:"type"`
	Blacklist    []string `json:"blacklist"`
	Whitelist    []string `json:"whitelist"`
	AllowedBy    []allow  `json:"allowed_by_methods"`
	RejectedCode int      `json:"rejected_code"`
	RejectedMsg  *string  `json:"rejected_msg"`

	white, black *nameSet
	methods      map[string]map[string]bool // user -> allowed methods
	reject       *Reply
	missing      *Reply

	// A whitelist decodeFast read is kept in src, the configuration, as
	// whiteIn, where its array lies, and whiteN, how many names it holds;
	// not as Whitelist: 100,000 names with no pointer each for the garbage
	// collector to scan, and nothing a change must copy (an index of where
	// each name starts was 400 KB of fresh memory per subscription). What
	// splice needs.
	src     string
	whiteIn [2]int
	whiteN  int
}

type allow struct {
	User    string   `json:"user"`
	Methods []string `json:"methods"`
}

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true,
	"HEAD": true, "OPTIONS": true, "CONNECT": true, "TRACE": true, "PURGE": true}

// NewRestriction compiles a consumer-restriction configuration, which it
// keeps (see Compile).
func NewRestriction(raw json.RawMessage) (*Restriction, error) { return newRestriction(raw, nil) }

// newRestriction compiles raw reusing prev, the restriction it replaces
// (nil when none): a large whitelist changed by a few names shares most of
// its set with prev's.
func newRestriction(raw json.RawMessage, prev *Restriction) (*Restriction, error) {
	r := &Restriction{Type: "consumer_name", RejectedCode: 403}
	hasW, hasB, fast := r.decodeFast(raw)
	hasM := false
	if !fast {
		var err error
		if r, hasW, hasB, hasM, err = decodeRestriction(raw); err != nil {
			return nil, err
		}
	}
	switch r.Type {
	case "consumer_name", "service_id", "route_id", "consumer_group_id":
	default:
		return nil, fmt.Errorf("property \"type\" validation failed: matches none of the enum values")
	}
	if r.RejectedCode < 200 {
		return nil, fmt.Errorf("property \"rejected_code\" validation failed: expected %d to be at least 200", r.RejectedCode)
	}
	if !hasW && !hasB && !hasM {
		return nil, fmt.Errorf("value should match any of: blacklist, whitelist or allowed_by_methods required")
	}
	if (hasW && len(r.Whitelist) == 0 && r.whiteN == 0) || (hasB && len(r.Blacklist) == 0) {
		return nil, fmt.Errorf("whitelist and blacklist need at least one item")
	}
	if prev != nil {
		r.white = derive(prev.white, prev.whitelist(), r.whitelist())
		r.black = derive(prev.black, prev.Blacklist, r.Blacklist)
	} else {
		r.white = newNameSet(r.whitelist())
		r.black = newNameSet(r.Blacklist)
	}
	if len(r.AllowedBy) > 0 {
		r.methods = map[string]map[string]bool{}
		for _, a := range r.AllowedBy {
			if _, seen := r.methods[a.User]; seen {
				continue // APISIX uses the first entry of a user
			}
			ms := map[string]bool{}
			for _, m := range a.Methods {
				if !httpMethods[m] {
					return nil, fmt.Errorf("allowed_by_methods: unknown method %q", m)
				}
				ms[m] = true
			}
			r.methods[a.User] = ms
		}
	}
	msg := "The " + r.Type + " is forbidden."
	if r.RejectedMsg != nil {
		msg = *r.RejectedMsg
	}
	r.reject = JSONReply(r.RejectedCode, "message", msg)
	r.missing = JSONReply(401, "message", "The request is rejected, please check the "+r.Type+" for this request")
	return r, nil
}

// decodeRestriction reads a configuration with encoding/json, and which of
// the lists it sets.
func decodeRestriction(raw json.RawMessage) (r *Restriction, hasW, hasB, hasM bool, err error) {
	r = &Restriction{Type: "consumer_name", RejectedCode: 403}
	if err := decodeObject(raw, r); err != nil {
		return nil, false, false, false, err
	}
	return r, hasField(raw, "whitelist"), hasField(raw, "blacklist"), hasField(raw, "allowed_by_methods"), nil
}

// whitelist is the whitelist's names, however they are kept.
func (r *Restriction) whitelist() []string {
	if !r.whiteInSrc() {
		return r.Whitelist
	}
	s := jsonscan.Scanner{B: bytesOf(r.src)[:r.whiteIn[1]], I: r.whiteIn[0]}
	out, _ := s.Strings(r.src) // decodeFast read it: it is valid
	return out
}

// whiteInSrc tells whether the whitelist is kept in src (decodeFast read it).
func (r *Restriction) whiteInSrc() bool { return r.whiteIn[1] != 0 }

// Allows tells whether the whitelist admits name (for benchmarks and tests).
func (r *Restriction) Allows(name string) bool { return r.white != nil && r.white.has(name) }

// Access checks the request.
func (r *Restriction) Access(c *Ctx) *Reply {
	var value string
	switch r.Type {
	case "consumer_name":
		if c.Consumer != nil {
			value = c.Consumer.Username
		}
	case "consumer_group_id":
		if c.Consumer != nil {
			value = c.Consumer.GroupID
		}
	case "route_id":
		value = c.RouteID
	case "service_id":
		value = c.ServiceID
	}
	if value == "" {
		return r.missing
	}
	// A consumer name's answer is remembered by its consumer (hasUser).
	in := func(s *nameSet) bool {
		if r.Type == "consumer_name" {
			return s.hasUser(c.Consumer)
		}
		return s.has(value)
	}
	if r.black != nil && in(r.black) {
		return r.reject
	}
	whitelisted := false
	block := false
	if r.white != nil {
		whitelisted = in(r.white)
		block = !whitelisted
	}
	if r.methods != nil && !whitelisted {
		if ms, ok := r.methods[value]; ok && !ms[string(c.Req.Header.Method())] {
			block = true
		}
	}
	if block {
		return r.reject
	}
	return nil
}
