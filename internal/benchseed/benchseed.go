// Package benchseed writes the data set of the data plane churn benchmark
// (scripts/bench/churn.sh) into etcd and changes it at fixed rates while the
// benchmark measures: routes, services and consumers as the control core
// writes them (gateway/render.go, gateway/ops.go), in APISIX 3.x JSON.
//
// The data set, for Config{Routes: R, Consumers: N, BigRoutes: B, Whitelist: W}:
//
//   - upstream "bench" with one node, the benchmark's upstream;
//   - services s0 … s99 on that upstream;
//   - consumers app_0 … app_<N-1>, each with a credential k0 holding the
//     key-auth key "key-app_<i>" encrypted with the keyring;
//   - routes r0 … r<R-1>, uri /api<i>/*, service s<i%100>, with key-auth,
//     consumer-restriction and limit-count (per consumer, never reached);
//     routes r0 … r<B-1> are big APIs whitelisting every consumer, the others
//     whitelist W consumers each (Member).
//
// Churn never removes a consumer, key or whitelist entry that Member names,
// so every request the load generator builds from Member stays a 200.
package benchseed

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
)

// Config sizes the data set.
type Config struct {
	Prefix    string // group prefix, e.g. /apisix
	Routes    int
	Consumers int
	// BigRoutes are the first routes, each whitelisting every consumer.
	BigRoutes int
	// Whitelist is how many consumers each other route whitelists.
	Whitelist int
	// Upstream is the host:port every service proxies to.
	Upstream string
	// Keyring encrypts the key-auth keys (APISIX's default when nil).
	Keyring *apisix.Keyring
}

// Services is how many services the routes are spread over.
const Services = 100

// Reserved consumers (app_0 … app_<Reserved-1>) are the ones churn takes
// off and puts back on big routes' whitelists; Member never names them for
// a big route.
const Reserved = 1000

// Check tells whether the configuration is usable.
func (c Config) Check() error {
	switch {
	case c.Routes < 1 || c.Consumers < 1:
		return fmt.Errorf("benchseed: need at least one route and one consumer")
	case c.BigRoutes > c.Routes:
		return fmt.Errorf("benchseed: %d big routes of %d", c.BigRoutes, c.Routes)
	case c.BigRoutes > 0 && c.Consumers <= Reserved:
		return fmt.Errorf("benchseed: big routes need more than %d consumers", Reserved)
	case c.Whitelist < 1 || c.Whitelist > c.Consumers:
		return fmt.Errorf("benchseed: whitelist of %d among %d consumers", c.Whitelist, c.Consumers)
	}
	if _, _, err := net.SplitHostPort(c.Upstream); err != nil {
		return fmt.Errorf("benchseed: upstream: %w", err)
	}
	return nil
}

// ConsumerName is the name of consumer i.
func ConsumerName(i int) string { return "app_" + strconv.Itoa(i) }

// Key is the plain key-auth key of consumer i.
func Key(i int) string { return "key-app_" + strconv.Itoa(i) }

// RouteID is the id of route i.
func RouteID(i int) string { return "r" + strconv.Itoa(i) }

// Path is a request path route i matches.
func Path(i int) string { return "/api" + strconv.Itoa(i) + "/x" }

// Big tells whether route i whitelists every consumer.
func (c Config) Big(i int) bool { return i < c.BigRoutes }

// Member is the j-th consumer (0 ≤ j < Members(i)) route i lets through for
// the whole benchmark.
func (c Config) Member(i, j int) int {
	if c.Big(i) {
		return Reserved + j
	}
	// Spread each route's whitelist over the consumers.
	return (i*7919 + j*104729) % c.Consumers
}

// Members is how many consumers Member names for route i.
func (c Config) Members(i int) int {
	if c.Big(i) {
		return c.Consumers - Reserved
	}
	return c.Whitelist
}

// whitelist is route i's whitelist as seeded.
func (c Config) whitelist(i int) []string {
	if c.Big(i) {
		out := make([]string, c.Consumers)
		for n := range out {
			out[n] = ConsumerName(n)
		}
		return out
	}
	out := make([]string, 0, c.Whitelist)
	seen := map[int]bool{}
	for j := 0; j < c.Whitelist; j++ {
		if m := c.Member(i, j); !seen[m] {
			seen[m] = true
			out = append(out, ConsumerName(m))
		}
	}
	return out
}

// KV is one key and value to write.
type KV struct {
	Key   string
	Value []byte
}

// route is a route as the control core writes it.
type route struct {
	apisix.Route
	count int
	list  []string
}

func (c Config) route(i int) *route {
	return &route{Route: apisix.Route{
		ID: RouteID(i), Name: "api " + strconv.Itoa(i), URI: "/api" + strconv.Itoa(i) + "/*",
		Methods: []string{"GET", "POST"}, ServiceID: "s" + strconv.Itoa(i%Services),
		Labels: apisix.Labels{apisix.LabelManagedBy: "devportal", apisix.LabelServiceTemplateID: "st" + strconv.Itoa(i%Services),
			apisix.LabelRouteTemplateID: "rt" + strconv.Itoa(i)},
		CreateTime: 1700000000, UpdateTime: 1700000000,
	}, count: 1000000, list: c.whitelist(i)}
}

// encode renders the route with its managed plugins, as gateway.applyOps does.
func (r *route) encode() ([]byte, error) {
	out := r.Route
	out.Plugins = apisix.Plugins{}
	var err error
	set := func(name string, v any) {
		if err == nil {
			out.Plugins[name], err = json.Marshal(v)
		}
	}
	set("key-auth", map[string]any{"hide_credentials": true})
	set("consumer-restriction", map[string]any{"type": "consumer_name", "whitelist": r.list})
	set("limit-count", map[string]any{"count": r.count, "time_window": 60, "key_type": "var", "key": "consumer_name",
		"rejected_code": 429, "policy": "local"})
	if err != nil {
		return nil, err
	}
	return json.Marshal(&out)
}

func consumer(i int) ([]byte, error) {
	return json.Marshal(&apisix.Consumer{Username: ConsumerName(i), Labels: apisix.Labels{"application_id": strconv.Itoa(i)},
		CreateTime: 1700000000, UpdateTime: 1700000000})
}

func credential(kr *apisix.Keyring, user int, id, key string) ([]byte, error) {
	kv, err := json.Marshal(map[string]string{"key": kr.Encrypt(key)})
	if err != nil {
		return nil, err
	}
	return json.Marshal(&apisix.Credential{ID: id, Plugins: apisix.Plugins{"key-auth": kv},
		Labels: apisix.Labels{"application_id": strconv.Itoa(user)}, CreateTime: 1700000000, UpdateTime: 1700000000})
}

func (c Config) keyring() *apisix.Keyring {
	if c.Keyring != nil {
		return c.Keyring
	}
	kr, err := apisix.NewKeyring(apisix.DefaultKeyring)
	if err != nil {
		panic(err) // the default keyring is valid
	}
	return kr
}

// Data is the whole data set, in the order it is written: upstream,
// services, consumers and their credentials, routes.
func (c Config) Data(each func(KV) error) error {
	if err := c.Check(); err != nil {
		return err
	}
	host, portStr, _ := net.SplitHostPort(c.Upstream)
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("benchseed: upstream port: %w", err)
	}
	up, err := json.Marshal(&apisix.Upstream{ID: "bench", Type: "roundrobin", Nodes: apisix.Nodes{{Host: host, Port: port, Weight: 1}},
		Labels: apisix.Labels{apisix.LabelManagedBy: "devportal"}})
	if err != nil {
		return err
	}
	if err := each(KV{apisix.Key(c.Prefix, apisix.KindUpstreams, "bench"), up}); err != nil {
		return err
	}
	for s := 0; s < Services; s++ {
		id := "s" + strconv.Itoa(s)
		v, err := json.Marshal(&apisix.Service{ID: id, Name: "service " + id, UpstreamID: "bench",
			Labels: apisix.Labels{apisix.LabelManagedBy: "devportal", apisix.LabelServiceTemplateID: "st" + strconv.Itoa(s)}})
		if err != nil {
			return err
		}
		if err := each(KV{apisix.Key(c.Prefix, apisix.KindServices, id), v}); err != nil {
			return err
		}
	}
	kr := c.keyring()
	for i := 0; i < c.Consumers; i++ {
		v, err := consumer(i)
		if err != nil {
			return err
		}
		if err := each(KV{apisix.Key(c.Prefix, apisix.KindConsumers, ConsumerName(i)), v}); err != nil {
			return err
		}
		cv, err := credential(kr, i, "k0", Key(i))
		if err != nil {
			return err
		}
		if err := each(KV{apisix.CredentialKey(c.Prefix, ConsumerName(i), "k0"), cv}); err != nil {
			return err
		}
	}
	for i := 0; i < c.Routes; i++ {
		v, err := c.route(i).encode()
		if err != nil {
			return err
		}
		if err := each(KV{apisix.Key(c.Prefix, apisix.KindRoutes, RouteID(i)), v}); err != nil {
			return err
		}
	}
	return nil
}

// Limits of one transaction: the embedded etcd's (gateway/etcdserver).
const (
	MaxTxnOps   = 1024     // etcd's limit is 4096; smaller transactions time out less on a busy machine
	MaxTxnBytes = 24 << 20 // under etcdserver.MaxRequestBytes, with room for the envelope
)

// Seed deletes everything under the prefix and writes the data set in
// batched transactions. It returns the number of keys and bytes written.
func Seed(ctx context.Context, cli *clientv3.Client, c Config) (keys, bytes int, err error) {
	if _, err := cli.Delete(ctx, strings.TrimRight(c.Prefix, "/")+"/", clientv3.WithPrefix()); err != nil {
		return 0, 0, fmt.Errorf("benchseed: clear %s: %w", c.Prefix, err)
	}
	var ops []clientv3.Op
	size := 0
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		// Puts are idempotent: a transaction that timed out on a busy
		// machine is sent again.
		var err error
		for try := 0; try < 5; try++ {
			if _, err = cli.Txn(ctx).Then(ops...).Commit(); err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(time.Second)
		}
		if err != nil {
			return fmt.Errorf("benchseed: write %d keys: %w", len(ops), err)
		}
		ops, size = ops[:0], 0
		return nil
	}
	err = c.Data(func(kv KV) error {
		n := len(kv.Key) + len(kv.Value) + 16
		if len(ops) == MaxTxnOps || (size+n > MaxTxnBytes && len(ops) > 0) {
			if err := flush(); err != nil {
				return err
			}
		}
		ops = append(ops, clientv3.OpPut(kv.Key, string(kv.Value)))
		size += n
		keys++
		bytes += len(kv.Value)
		return nil
	})
	if err == nil {
		err = flush()
	}
	return keys, bytes, err
}
