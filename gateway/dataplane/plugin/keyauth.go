package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/valyala/fasthttp"
)

// KeyAuth is APISIX's key-auth: the key from a header (default "apikey") or
// else a query argument (default "apikey") names a consumer.
type KeyAuth struct {
	Header          string `json:"header"`
	Query           string `json:"query"`
	HideCredentials bool   `json:"hide_credentials"`
	Realm           string `json:"realm"`
	Anonymous       string `json:"anonymous_consumer"`

	missing, invalid, anonymousFailed *Reply
}

var realmRe = regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]+$`)

// NewKeyAuth compiles a route-side key-auth configuration.
func NewKeyAuth(raw json.RawMessage) (*KeyAuth, error) {
	k := &KeyAuth{Header: "apikey", Query: "apikey", Realm: "key"}
	if err := decodeObject(raw, k); err != nil {
		return nil, err
	}
	if !realmRe.MatchString(k.Realm) {
		return nil, fmt.Errorf("property \"realm\" validation failed: does not match pattern")
	}
	if k.Anonymous == "" && bytes.Contains(raw, []byte(`"anonymous_consumer"`)) && hasField(raw, "anonymous_consumer") {
		return nil, fmt.Errorf("property \"anonymous_consumer\" validation failed: string too short")
	}
	auth := []Header{{"WWW-Authenticate", `apikey realm="` + k.Realm + `"`}}
	k.missing = JSONReply(401, "message", "Missing API key in request")
	k.missing.Headers = auth
	k.invalid = JSONReply(401, "message", "Invalid API key in request")
	k.invalid.Headers = auth
	k.anonymousFailed = JSONReply(401, "message", "Invalid user authorization")
	k.anonymousFailed.Headers = auth
	return k, nil
}

// KeyAuthCredential is the consumer side of key-auth: {"key": "..."}.
type KeyAuthCredential struct {
	Key *string `json:"key"`
}

// ParseKeyAuthCredential reads a consumer's or credential's key-auth config.
func ParseKeyAuthCredential(raw json.RawMessage) (string, error) {
	var c KeyAuthCredential
	if err := decodeObject(raw, &c); err != nil {
		return "", err
	}
	if c.Key == nil {
		return "", fmt.Errorf("property \"key\" is required")
	}
	return *c.Key, nil
}

// Rewrite authenticates the request.
func (k *KeyAuth) Rewrite(c *Ctx) *Reply {
	fromHeader := true
	key := c.Req.Header.Peek(k.Header)
	if key == nil {
		fromHeader = false
		args := c.Req.URI().QueryArgs()
		if args.Has(k.Query) {
			key = args.Peek(k.Query)
			if key == nil {
				key = []byte{}
			}
		}
	}
	if key == nil {
		if k.Anonymous == "" {
			return k.missing
		}
		return k.anonymous(c)
	}
	var consumer *Consumer
	if c.Dir != nil {
		consumer = c.Dir.ConsumerByKey(key)
	}
	if consumer == nil {
		if k.Anonymous == "" {
			return k.invalid
		}
		if k.HideCredentials {
			c.Req.Header.Del(k.Header)
			c.Req.URI().QueryArgs().Del(k.Query)
		}
		return k.anonymous(c)
	}
	if k.HideCredentials {
		if fromHeader {
			c.Req.Header.Del(k.Header)
		} else {
			c.Req.URI().QueryArgs().Del(k.Query)
		}
	}
	Attach(c, consumer)
	return nil
}

func (k *KeyAuth) anonymous(c *Ctx) *Reply {
	var consumer *Consumer
	if c.Dir != nil {
		consumer = c.Dir.ConsumerByName(k.Anonymous)
	}
	if consumer == nil {
		return k.anonymousFailed
	}
	Attach(c, consumer)
	return nil
}

// Attach makes consumer the request's consumer and tells the upstream who
// it is, as APISIX's consumer.attach_consumer does (an unset value removes
// whatever the client sent under that name).
func Attach(c *Ctx, consumer *Consumer) {
	c.Consumer = consumer
	h := &c.Req.Header
	setOrDel(h, hdrConsumerUsername, consumer.Username)
	setOrDel(h, hdrCredentialIdentifier, consumer.CredentialID)
	setOrDel(h, hdrConsumerCustomID, consumer.CustomID)
}

// The headers Attach sets, in the form the server's request headers keep
// names (normalized), so that setting one skips normalizing a copy.
var (
	hdrConsumerUsername     = []byte("X-Consumer-Username")
	hdrCredentialIdentifier = []byte("X-Credential-Identifier")
	hdrConsumerCustomID     = []byte("X-Consumer-Custom-Id")
)

func setOrDel(h *fasthttp.RequestHeader, k []byte, v string) {
	if v == "" {
		h.DelBytes(k)
	} else {
		h.SetCanonical(k, bytesOf(v))
	}
}

// decodeObject decodes a plugin configuration, which must be a JSON object.
func decodeObject(raw json.RawMessage, v any) error {
	if !isObject(raw) {
		return fmt.Errorf("configuration must be an object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return nil
}

// isObject tells whether raw starts like a JSON object (Unmarshal checks the rest).
func isObject(raw []byte) bool {
	for _, ch := range raw {
		switch ch {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return ch == '{'
	}
	return false
}

func hasField(raw json.RawMessage, name string) bool {
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(raw, &probe)
	_, ok := probe[name]
	return ok
}
