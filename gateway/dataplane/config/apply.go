package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/balancer"
	"devportal/gateway/dataplane/cowmap"
	"devportal/gateway/dataplane/plugin"
	"devportal/gateway/dataplane/router"
)

// Event is one change under the prefix: a put (Value set) or a delete.
// Apply may keep Value (a big route's plugins are read in place), so it
// must not be modified afterwards; etcd's responses never are.
type Event struct {
	Key    string
	Value  []byte // nil for a delete
	Delete bool
}

// batch builds the next snapshot from the previous one.
type batch struct {
	log     *slog.Logger
	keyring *apisix.Keyring
	prev    *Snapshot // the snapshot the batch applies to

	routes        *cowmap.Builder[*apisix.Route]
	bigRoutes     *cowmap.Builder[*bigRoute]
	services      *cowmap.Builder[*serviceEntry]
	upstreams     *cowmap.Builder[*balancer.Upstream]
	pluginConfigs *cowmap.Builder[*apisix.PluginConfig]
	consumers     *cowmap.Builder[*consumerEntry]
	creds         *cowmap.Builder[credList]
	keys          *cowmap.Builder[[]keyOwner]
	streamRaw     *cowmap.Builder[*apisix.StreamRoute]
	streams       *cowmap.Builder[*StreamRoute]

	dirtyRoutes, dirtyServices, dirtyUpstreams, dirtyPCs, dirtyUsers, dirtyStreams map[string]bool
	// Consumers as they were before the batch, for removing their keys.
	oldConsumers map[string]*consumerEntry
	oldCreds     map[string]credList
}

// Apply returns the snapshot that results from applying events to s (s is
// unchanged). Values that are not valid are logged and treated as absent.
func Apply(s *Snapshot, events []Event, prefix string, keyring *apisix.Keyring, log *slog.Logger) *Snapshot {
	b := &batch{
		log: log, keyring: keyring, prev: s,
		routes: s.routes.Builder(), bigRoutes: s.bigRoutes.Builder(), services: s.services.Builder(), upstreams: s.upstreams.Builder(),
		pluginConfigs: s.pluginConfigs.Builder(), consumers: s.consumers.Builder(), creds: s.creds.Builder(),
		keys: s.keys.Builder(), streamRaw: s.streamRaw.Builder(), streams: s.streams.Builder(),
		dirtyRoutes: map[string]bool{}, dirtyServices: map[string]bool{}, dirtyUpstreams: map[string]bool{},
		dirtyPCs: map[string]bool{}, dirtyUsers: map[string]bool{}, dirtyStreams: map[string]bool{},
		oldConsumers: map[string]*consumerEntry{}, oldCreds: map[string]credList{},
	}
	pre := predecode(events, prefix, keyring)
	if pre != nil {
		// A full load: size the consumer and key tables once.
		b.consumers.Grow(len(events))
		b.keys.Grow(len(events))
		b.dirtyUsers = make(map[string]bool, len(events))
	}
	for i, ev := range events {
		pk, ok := apisix.ParseKey(prefix, ev.Key)
		if !ok || pk.Kind == apisix.KindServerInfo {
			continue
		}
		var d *decoded
		if pre != nil {
			d = pre[i]
		}
		b.event(pk, ev, d)
	}
	next := &Snapshot{Router: s.Router}
	b.rebuild(s, next)
	return next
}

func (b *batch) bad(ev Event, err error) {
	b.log.Error("config: skipping invalid value", "key", ev.Key, "err", err)
}

// decode reads a JSON object; APISIX skips values that are not objects.
func decode(v []byte, out any) error {
	if !isObject(v) {
		return fmt.Errorf("value is not a JSON object")
	}
	return json.Unmarshal(v, out)
}

// isObject tells whether v starts like a JSON object (Unmarshal checks the rest).
func isObject(v []byte) bool {
	for _, ch := range v {
		switch ch {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return ch == '{'
	}
	return false
}

// event applies one event; d, when set, is the event's consumer value
// decoded ahead (predecode).
func (b *batch) event(pk apisix.ParsedKey, ev Event, d *decoded) {
	id := pk.ID
	switch pk.Kind {
	case apisix.KindRoutes:
		b.dirtyRoutes[id] = true
		if ev.Delete {
			b.routes.Delete(id)
			b.bigRoutes.Delete(id)
			return
		}
		old, _ := b.bigRoutes.Get(id)
		r, big, err := decodeRoute(ev.Value, old)
		if b.check(ev, err) {
			b.routes.Delete(id)
			b.bigRoutes.Delete(id)
			return
		}
		r.ID = id // APISIX uses the key's id
		b.routes.Set(id, r)
		if big != nil {
			b.bigRoutes.Set(id, big)
		} else {
			b.bigRoutes.Delete(id)
		}
	case apisix.KindServices:
		b.dirtyServices[id] = true
		var sv apisix.Service
		if ev.Delete || b.check(ev, decode(ev.Value, &sv)) {
			b.services.Delete(id)
			return
		}
		sv.ID = id
		e := &serviceEntry{raw: &sv}
		if sv.Upstream != nil {
			up, err := balancer.New(sv.Upstream)
			if b.check(ev, err) {
				b.services.Delete(id)
				return
			}
			e.upstream = up
		}
		if _, err := plugin.Compile(sv.Plugins, "service:"+plugin.Scope(id)); b.check(ev, err) {
			b.services.Delete(id)
			return
		}
		b.services.Set(id, e)
	case apisix.KindUpstreams:
		b.dirtyUpstreams[id] = true
		var u apisix.Upstream
		if ev.Delete || b.check(ev, decode(ev.Value, &u)) {
			b.upstreams.Delete(id)
			return
		}
		u.ID = id
		up, err := balancer.New(&u)
		if b.check(ev, err) {
			b.upstreams.Delete(id)
			return
		}
		b.upstreams.Set(id, up)
	case apisix.KindPluginConfigs:
		b.dirtyPCs[id] = true
		var pc apisix.PluginConfig
		if ev.Delete || b.check(ev, decode(ev.Value, &pc)) {
			b.pluginConfigs.Delete(id)
			return
		}
		if _, err := plugin.Compile(pc.Plugins, "plugin_config:"+plugin.Scope(id)); b.check(ev, err) {
			b.pluginConfigs.Delete(id)
			return
		}
		pc.ID = id
		b.pluginConfigs.Set(id, &pc)
	case apisix.KindConsumers:
		b.touchUser(id)
		if pk.CredentialID != "" {
			b.credEvent(id, pk.CredentialID, ev)
			return
		}
		if ev.Delete {
			b.consumers.Delete(id)
			return
		}
		if d == nil {
			d = decodeConsumer(ev.Value, b.keyring)
		}
		if b.check(ev, d.err) {
			b.consumers.Delete(id)
			return
		}
		if d.keyErr {
			b.log.Warn("config: key-auth key is not encrypted with the keyring; using it as stored", "key", ev.Key)
		}
		c, err := buildConsumer(id, d.consumer, "")
		if err != nil {
			b.log.Error("config: skipping consumer", "consumer", id, "err", err)
			b.consumers.Delete(id)
			return
		}
		b.consumers.Set(id, &consumerEntry{consumer: c, key: d.key, hasKey: d.hasKey})
	case apisix.KindStreamRoutes:
		b.dirtyStreams[id] = true
		var r apisix.StreamRoute
		if ev.Delete || b.check(ev, decode(ev.Value, &r)) {
			b.streamRaw.Delete(id)
			return
		}
		r.ID = id
		b.streamRaw.Set(id, &r)
	}
}

// check logs err and reports whether there was one.
func (b *batch) check(ev Event, err error) bool {
	if err != nil {
		b.bad(ev, err)
		return true
	}
	return false
}

// decrypt reads a stored key-auth key as APISIX does: decrypted with the
// keyring, or kept as stored when no key of the keyring fits.
func (b *batch) decrypt(etcdKey, stored string) string {
	plain, err := b.keyring.Decrypt(stored)
	if err != nil {
		b.log.Warn("config: key-auth key is not encrypted with the keyring; using it as stored", "key", etcdKey)
		return stored
	}
	return plain
}

func (b *batch) touchUser(user string) {
	if b.dirtyUsers[user] {
		return
	}
	b.dirtyUsers[user] = true
	if old, ok := b.consumers.Get(user); ok {
		b.oldConsumers[user] = old
	}
	if oldCreds, ok := b.creds.Get(user); ok {
		b.oldCreds[user] = oldCreds
	}
}

func (b *batch) credEvent(user, credID string, ev Event) {
	cur, _ := b.creds.Get(user)
	next := make(credList, 0, len(cur)+1)
	for _, e := range cur {
		if e.id != credID {
			next = append(next, e)
		}
	}
	var c apisix.Credential
	if !ev.Delete && !b.check(ev, decode(ev.Value, &c)) {
		e := credEntry{id: credID}
		ok := true
		if raw, has := c.Plugins["key-auth"]; has {
			key, err := plugin.ParseKeyAuthCredential(raw)
			if b.check(ev, err) {
				ok = false
			} else {
				e.key, e.hasKey = b.decrypt(ev.Key, key), true
			}
		}
		if ok {
			i, _ := slices.BinarySearchFunc(next, credID, func(e credEntry, id string) int { return strings.Compare(e.id, id) })
			next = slices.Insert(next, i, e)
		}
	}
	if len(next) == 0 {
		b.creds.Delete(user)
	} else {
		b.creds.Set(user, next)
	}
}

// rebuild recompiles what the batch touched and fills next.
func (b *batch) rebuild(prev, next *Snapshot) {
	b.rebuildConsumers()

	// Routes depending on a changed service, upstream or plugin config.
	routes := b.routes.Map()
	services := b.services.Map()
	if len(b.dirtyServices)+len(b.dirtyUpstreams)+len(b.dirtyPCs) > 0 {
		routes.Range(func(id string, r *apisix.Route) bool {
			if b.dirtyServices[r.ServiceID] || b.dirtyUpstreams[r.UpstreamID] || b.dirtyPCs[r.PluginConfigID] {
				b.dirtyRoutes[id] = true
			} else if r.ServiceID != "" && r.UpstreamID == "" && r.Upstream == nil {
				if sv, ok := services.Get(r.ServiceID); ok && b.dirtyUpstreams[sv.raw.UpstreamID] {
					b.dirtyRoutes[id] = true
				}
			}
			return true
		})
	}
	b.services = services.Builder()
	upstreams := b.upstreams.Map()
	b.upstreams = upstreams.Builder()
	pcs := b.pluginConfigs.Map()
	b.pluginConfigs = pcs.Builder()

	ids := make([]string, 0, len(b.dirtyRoutes))
	for id := range b.dirtyRoutes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var remove []string
	var add []*router.Route[*Route]
	for _, id := range ids {
		r, ok := routes.Get(id)
		if !ok || !r.Enabled() {
			remove = append(remove, id)
			continue
		}
		rt, err := b.compileRoute(r)
		if err != nil {
			b.log.Error("config: skipping route", "route", id, "err", err)
			remove = append(remove, id)
			continue
		}
		add = append(add, rt)
	}
	if len(remove)+len(add) > 0 {
		next.Router = prev.Router.Update(remove, add)
	}

	// Stream routes.
	streamRaw := b.streamRaw.Map()
	if len(b.dirtyServices)+len(b.dirtyUpstreams) > 0 {
		streamRaw.Range(func(id string, r *apisix.StreamRoute) bool {
			if b.dirtyServices[r.ServiceID] || b.dirtyUpstreams[r.UpstreamID] {
				b.dirtyStreams[id] = true
			}
			return true
		})
	}
	for id := range b.dirtyStreams {
		r, ok := streamRaw.Get(id)
		if !ok {
			b.streams.Delete(id)
			continue
		}
		sr, err := b.compileStream(r)
		if err != nil {
			b.log.Error("config: skipping stream route", "stream_route", id, "err", err)
			b.streams.Delete(id)
			continue
		}
		b.streams.Set(id, sr)
	}

	next.routes = routes
	next.bigRoutes = b.bigRoutes.Map()
	next.services = b.services.Map()
	next.upstreams = b.upstreams.Map()
	next.pluginConfigs = b.pluginConfigs.Map()
	next.consumers = b.consumers.Map()
	next.creds = b.creds.Map()
	next.keys = b.keys.Map()
	next.streamRaw = streamRaw
	next.streams = b.streams.Map()
}

// rebuildConsumers recomputes the consumers and keys of the users touched.
func (b *batch) rebuildConsumers() {
	users := make([]string, 0, len(b.dirtyUsers))
	for u := range b.dirtyUsers {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, user := range users {
		// Drop the keys the user owned before the batch.
		if old := b.oldConsumers[user]; old != nil && old.hasKey {
			b.dropKey(old.key, user)
		}
		for _, c := range b.oldCreds[user] {
			if c.hasKey {
				b.dropKey(c.key, user+"/credentials/"+c.id)
			}
		}
		e, ok := b.consumers.Get(user)
		creds, _ := b.creds.Get(user)
		if !ok {
			if len(creds) > 0 {
				b.log.Warn("config: credentials without their consumer are ignored", "consumer", user)
			}
			continue
		}
		c := e.consumer
		if e.hasKey {
			b.addKey(e.key, keyOwner{id: user, c: c})
		}
		if len(creds) > 0 {
			nc := make(credList, len(creds))
			for i, ce := range creds {
				cc := c.WithCredential(ce.id)
				ce.consumer = cc
				nc[i] = ce
				if ce.hasKey {
					b.addKey(ce.key, keyOwner{id: user + "/credentials/" + ce.id, c: cc})
				}
			}
			b.creds.Set(user, nc)
		}
	}
}

func (b *batch) dropKey(key, id string) {
	owners, ok := b.keys.Get(key)
	if !ok {
		return
	}
	out := make([]keyOwner, 0, len(owners))
	for _, o := range owners {
		if o.id != id {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		b.keys.Delete(key)
	} else {
		b.keys.Set(key, out)
	}
}

func (b *batch) addKey(key string, o keyOwner) {
	owners, _ := b.keys.Get(key)
	out := make([]keyOwner, 0, len(owners)+1)
	for _, x := range owners {
		if x.id != o.id {
			out = append(out, x)
		}
	}
	out = append(out, o)
	if len(out) > 1 {
		b.log.Warn("config: key-auth key shared by several consumers; the last in key order wins", "owners", len(out))
		sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	}
	b.keys.Set(key, out)
}
