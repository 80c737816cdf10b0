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
	case OpWhitelistAdd, OpWhitelistRemove:
		op.validTarget(&v)
		v.Check(consumerName.MatchString(op.Username), "username", "must match ^[a-zA-Z0-9_\\-]+$")
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

// mutate computes the key's next value from its current one (nil: absent);
// nil means the key must not exist.
func (op Op) mutate(cur []byte, now int64) ([]byte, error) {
	switch op.Kind {
	case OpConsumerDelete, OpCredentialDelete:
		return nil, nil
	case OpConsumerPut:
		doc, created := decodeDoc(cur, now)
		doc["username"] = op.Username
		setOrDelete(doc, "desc", op.Desc)
		setLabels(doc, op.Labels)
		return encodeDoc(doc, created, now)
	case OpCredentialPut:
		doc, created := decodeDoc(cur, now)
		doc["id"] = op.CredentialID
		doc["plugins"] = map[string]any{"key-auth": map[string]any{"key": op.EncryptedKey}}
		setOrDelete(doc, "desc", op.Desc)
		setLabels(doc, op.Labels)
		return encodeDoc(doc, created, now)
	}
	// Route and service ops change only the plugins the core manages, and
	// only on an object that exists: the API's route may be gone meanwhile.
	if cur == nil {
		return nil, nil
	}
	doc, created := decodeDoc(cur, now)
	plugins, _ := doc["plugins"].(map[string]any)
	if plugins == nil {
		plugins = map[string]any{}
	}
	switch op.Kind {
	case OpRoutePolicy:
		if op.KeyAuth {
			plugins["key-auth"] = map[string]any{"hide_credentials": true}
			if _, ok := plugins["consumer-restriction"].(map[string]any); !ok {
				plugins["consumer-restriction"] = map[string]any{"type": "consumer_name", "whitelist": []any{NobodyConsumer}}
			}
		} else {
			delete(plugins, "key-auth")
			delete(plugins, "consumer-restriction")
		}
		if rl := op.RateLimit; rl != nil {
			plugins["limit-count"] = map[string]any{"count": rl.Count, "time_window": rl.TimeWindow,
				"key_type": "var", "key": "consumer_name", "rejected_code": 429, "policy": "local"}
		} else {
			delete(plugins, "limit-count")
		}
	case OpWhitelistAdd, OpWhitelistRemove:
		cr, ok := plugins["consumer-restriction"].(map[string]any)
		if !ok {
			return cur, nil // the API has no key auth: nothing to restrict
		}
		list := whitelist(cr)
		if op.Kind == OpWhitelistAdd {
			if !slices.Contains(list, op.Username) {
				list = append(list, op.Username)
			}
			list = slices.DeleteFunc(list, func(s string) bool { return s == NobodyConsumer })
		} else {
			list = slices.DeleteFunc(list, func(s string) bool { return s == op.Username })
			if len(list) == 0 {
				list = []string{NobodyConsumer}
			}
		}
		cr["whitelist"] = list
	}
	if len(plugins) == 0 {
		delete(doc, "plugins")
	} else {
		doc["plugins"] = plugins
	}
	return encodeDoc(doc, created, now)
}

func whitelist(cr map[string]any) []string {
	raw, _ := cr["whitelist"].([]any)
	out := make([]string, 0, len(raw)+1)
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// decodeDoc reads a stored value keeping every field, numbers exact.
func decodeDoc(cur []byte, now int64) (map[string]any, any) {
	doc := map[string]any{}
	if cur != nil {
		dec := json.NewDecoder(bytes.NewReader(cur))
		dec.UseNumber()
		if dec.Decode(&doc) != nil {
			doc = map[string]any{} // a broken value is replaced whole
		}
	}
	created, ok := doc["create_time"]
	if !ok {
		created = now
	}
	return doc, created
}

func encodeDoc(doc map[string]any, created any, now int64) ([]byte, error) {
	doc["create_time"] = created
	doc["update_time"] = now
	b, err := json.Marshal(doc)
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
