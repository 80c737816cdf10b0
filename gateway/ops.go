package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"devportal/gateway/apisix"
	"devportal/internal/apperr"
)

// OpKind names a change the outbox applies to etcd.
type OpKind string

// The changes the portal asks of a gateway group.
const (
	OpConsumerPut      OpKind = "consumer.put"
	OpConsumerDelete   OpKind = "consumer.delete" // with its credentials
	OpCredentialPut    OpKind = "credential.put"
	OpCredentialDelete OpKind = "credential.delete"
	OpRoutePolicy      OpKind = "route.policy"
	OpWhitelistAdd     OpKind = "whitelist.add"
	OpWhitelistRemove  OpKind = "whitelist.remove"
	// OpWhitelistClear lets no consumer through any more (the API was
	// deleted): key-auth stays, the whitelist holds only NobodyConsumer.
	OpWhitelistClear OpKind = "whitelist.clear"
	// OpServiceSync writes a published service as the database holds it when
	// the op applies, and removes StaleKeys it no longer has: a publish, edit,
	// rollback or delete made while the group's etcd was unreachable.
	OpServiceSync OpKind = "service.sync"
)

// NobodyConsumer stands in an otherwise empty whitelist: APISIX's
// consumer-restriction needs at least one name, and ':' is outside APISIX's
// consumer username pattern, so no consumer can ever match it. A route whose
// API has no approved subscription thus lets no key through.
const NobodyConsumer = "devportal:nobody"

// RateLimit is the portal's per-application limit: count requests per
// time_window seconds.
type RateLimit struct {
	Count      int `json:"count"`
	TimeWindow int `json:"time_window"`
}

// Op is one change to a group's etcd. Ops are idempotent: applying one twice
// (after a crash between etcd and the database) leaves the same state.
type Op struct {
	Kind     OpKind `json:"kind"`
	Username string `json:"username,omitempty"`
	// CredentialID and EncryptedKey describe a key-auth credential. The key is
	// already encrypted with the APISIX data_encryption keyring, as stored in etcd.
	CredentialID string            `json:"credential_id,omitempty"`
	EncryptedKey string            `json:"encrypted_key,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Desc         string            `json:"desc,omitempty"`
	// RouteID targets one route; when empty, ServiceID targets a whole
	// service, whose plugins APISIX merges into every route of it.
	RouteID   string `json:"route_id,omitempty"`
	ServiceID string `json:"service_id,omitempty"`
	// KeyAuth and RateLimit are a route's policy (OpRoutePolicy).
	KeyAuth   bool       `json:"key_auth,omitempty"`
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
	// TemplateID and StaleKeys describe a service sync: the keys the service
	// had in etcd before the change, deleted unless the service still has them.
	TemplateID string   `json:"template_id,omitempty"`
	StaleKeys  []string `json:"stale_keys,omitempty"`
	// Usernames are more consumers a whitelist add adds, in order, after
	// Username if set: the reconciler's one op per API for all of its
	// subscribers (a million ops of one name each cost seconds).
	Usernames []string `json:"usernames,omitempty"`
}

// validate checks an op before it is recorded.
func (op Op) validate() error {
	var v apperr.Validator
	switch op.Kind {
	case OpConsumerPut, OpConsumerDelete:
		v.Check(consumerName.MatchString(op.Username), "username", "must match ^[a-zA-Z0-9_\\-]+$")
	case OpCredentialPut, OpCredentialDelete:
		v.Check(consumerName.MatchString(op.Username), "username", "must match ^[a-zA-Z0-9_\\-]+$")
		v.Check(idPattern.MatchString(op.CredentialID), "credential_id", "is not an APISIX ID")
		v.Check(op.Kind == OpCredentialDelete || op.EncryptedKey != "", "encrypted_key", "is required")
	case OpRoutePolicy:
		op.validTarget(&v)
		if rl := op.RateLimit; rl != nil {
			v.Check(rl.Count > 0, "rate_limit.count", "must be positive")
			v.Check(rl.TimeWindow > 0, "rate_limit.time_window", "must be positive seconds")
		}
	case OpWhitelistClear:
		op.validTarget(&v)
	case OpServiceSync:
		v.Check(idPattern.MatchString(op.ServiceID), "service_id", "is not an APISIX ID")
		v.Check(op.TemplateID != "", "template_id", "is required")
	case OpWhitelistRemove:
		op.validTarget(&v)
		v.Check(consumerName.MatchString(op.Username), "username", "must match ^[a-zA-Z0-9_\\-]+$")
	case OpWhitelistAdd:
		op.validTarget(&v)
		v.Check(op.Username != "" || len(op.Usernames) > 0, "username", "is required")
		v.Check(op.Username == "" || consumerName.MatchString(op.Username), "username", "must match ^[a-zA-Z0-9_\\-]+$")
		for _, u := range op.Usernames {
			if !consumerName.MatchString(u) {
				v.Add("usernames", "%q must match ^[a-zA-Z0-9_\\-]+$", u)
				break
			}
		}
	default:
		v.Add("kind", "unknown op %q", op.Kind)
	}
	return v.Err()
}

func (op Op) validTarget(v *apperr.Validator) {
	if op.RouteID != "" {
		v.Check(idPattern.MatchString(op.RouteID), "route_id", "is not an APISIX ID")
	} else {
		v.Check(idPattern.MatchString(op.ServiceID), "service_id", "a route_id or a service_id is required")
	}
}

// key is the etcd key the op changes.
func (op Op) key(prefix string) string {
	switch op.Kind {
	case OpConsumerPut, OpConsumerDelete:
		return apisix.Key(prefix, apisix.KindConsumers, op.Username)
	case OpCredentialPut, OpCredentialDelete:
		return apisix.CredentialKey(prefix, op.Username, op.CredentialID)
	}
	if op.RouteID == "" {
		return apisix.Key(prefix, apisix.KindServices, op.ServiceID)
	}
	return apisix.Key(prefix, apisix.KindRoutes, op.RouteID)
}

// applyOps computes a key's next value from its current one (nil: absent)
// by applying ops in order; nil means the key must not exist. The value is
// decoded and encoded once however many ops there are, and whitelist
// changes use a set, so a batch on a 100,000-name whitelist stays cheap.
func applyOps(cur []byte, ops []Op, now int64) ([]byte, error) {
	d := decodeDoc(cur, now)
	for _, op := range ops {
		op.applyTo(d)
	}
	return d.encode(now)
}

// doc is a stored value being changed.
type doc struct {
	m       map[string]any
	exists  bool
	created any
	// wl caches the consumer-restriction whitelist while ops change it.
	wl    []string
	wlSet map[string]bool
	wlCR  map[string]any
}

func (op Op) applyTo(d *doc) {
	switch op.Kind {
	case OpConsumerDelete, OpCredentialDelete:
		d.m, d.exists, d.wl, d.wlCR = map[string]any{}, false, nil, nil
		return
	case OpConsumerPut:
		d.exists = true
		d.m["username"] = op.Username
		setOrDelete(d.m, "desc", op.Desc)
		setLabels(d.m, op.Labels)
		return
	case OpCredentialPut:
		d.exists = true
		d.m["id"] = op.CredentialID
		d.m["plugins"] = map[string]any{"key-auth": map[string]any{"key": op.EncryptedKey}}
		setOrDelete(d.m, "desc", op.Desc)
		setLabels(d.m, op.Labels)
		return
	}
	// Route and service ops change only the plugins the core manages, and
	// only on an object that exists: the API's route may be gone meanwhile.
	if !d.exists {
		return
	}
	plugins, _ := d.m["plugins"].(map[string]any)
	if plugins == nil {
		plugins = map[string]any{}
		d.m["plugins"] = plugins
	}
	switch op.Kind {
	case OpRoutePolicy:
		if op.KeyAuth {
			plugins["key-auth"] = map[string]any{"hide_credentials": true}
			if _, ok := plugins["consumer-restriction"].(map[string]any); !ok {
				d.flushWhitelist()
				plugins["consumer-restriction"] = map[string]any{"type": "consumer_name", "whitelist": []any{NobodyConsumer}}
			}
		} else {
			d.flushWhitelist()
			d.wl, d.wlCR = nil, nil
			delete(plugins, "key-auth")
			delete(plugins, "consumer-restriction")
		}
		if rl := op.RateLimit; rl != nil {
			plugins["limit-count"] = map[string]any{"count": rl.Count, "time_window": rl.TimeWindow,
				"key_type": "var", "key": "consumer_name", "rejected_code": 429, "policy": "local"}
		} else {
			delete(plugins, "limit-count")
		}
	case OpWhitelistClear:
		if d.loadWhitelist(plugins) {
			d.wl, d.wlSet = nil, map[string]bool{}
		}
		delete(plugins, "limit-count")
	case OpWhitelistAdd, OpWhitelistRemove:
		if !d.loadWhitelist(plugins) {
			return // the API has no key auth: nothing to restrict
		}
		if op.Kind == OpWhitelistAdd {
			if d.wlSet[NobodyConsumer] {
				d.wl = slices.DeleteFunc(d.wl, func(s string) bool { return s == NobodyConsumer })
				delete(d.wlSet, NobodyConsumer)
			}
			if op.Username != "" {
				d.addToWhitelist(op.Username)
			}
			for _, u := range op.Usernames {
				d.addToWhitelist(u)
			}
		} else if d.wlSet[op.Username] {
			d.wl = slices.DeleteFunc(d.wl, func(s string) bool { return s == op.Username })
			delete(d.wlSet, op.Username)
		}
	}
}

func (d *doc) addToWhitelist(name string) {
	if !d.wlSet[name] {
		d.wl = append(d.wl, name)
		d.wlSet[name] = true
	}
}

// loadWhitelist starts caching the whitelist; false when there is none.
func (d *doc) loadWhitelist(plugins map[string]any) bool {
	cr, ok := plugins["consumer-restriction"].(map[string]any)
	if !ok {
		return false
	}
	if d.wlCR == nil {
		raw, _ := cr["whitelist"].([]any)
		d.wl = make([]string, 0, len(raw)+1)
		d.wlSet = make(map[string]bool, len(raw)+1)
		for _, v := range raw {
			if s, ok := v.(string); ok && !d.wlSet[s] {
				d.wl = append(d.wl, s)
				d.wlSet[s] = true
			}
		}
		d.wlCR = cr
	}
	return true
}

// flushWhitelist writes the cached whitelist back; an empty one holds
// NobodyConsumer, as APISIX needs at least one name.
func (d *doc) flushWhitelist() {
	if d.wlCR == nil {
		return
	}
	if len(d.wl) == 0 {
		d.wl = []string{NobodyConsumer}
	}
	d.wlCR["whitelist"] = d.wl
	d.wlCR = nil
}

// decodeDoc reads a stored value keeping every field, numbers exact.
func decodeDoc(cur []byte, now int64) *doc {
	d := &doc{m: map[string]any{}}
	if cur != nil {
		dec := json.NewDecoder(bytes.NewReader(cur))
		dec.UseNumber()
		if dec.Decode(&d.m) != nil {
			d.m = map[string]any{} // a broken value is replaced whole
		}
		d.exists = true
	}
	created, ok := d.m["create_time"]
	if !ok {
		created = now
	}
	d.created = created
	return d
}

func (d *doc) encode(now int64) ([]byte, error) {
	if !d.exists {
		return nil, nil
	}
	d.flushWhitelist()
	if p, ok := d.m["plugins"].(map[string]any); ok && len(p) == 0 {
		delete(d.m, "plugins")
	}
	d.m["create_time"] = d.created
	d.m["update_time"] = now
	b, err := json.Marshal(d.m)
	if err != nil {
		return nil, fmt.Errorf("gateway: encode: %w", err)
	}
	return b, nil
}

func setOrDelete(doc map[string]any, field, value string) {
	if value == "" {
		delete(doc, field)
	} else {
		doc[field] = value
	}
}

func setLabels(doc map[string]any, labels map[string]string) {
	if len(labels) == 0 {
		delete(doc, "labels")
		return
	}
	doc["labels"] = labels
}
