// Package cowmap is a persistent (copy-on-write) string-keyed map split into
// shards: a change copies only the shard it touches, so a snapshot holding
// 100k entries is updated in microseconds while readers of the old snapshot
// keep a consistent view without locks.
package cowmap

import (
	"hash/maphash"
	"maps"
)

const shardBits = 8
const nShards = 1 << shardBits

var seed = maphash.MakeSeed()

func shardOf(k string) int { return int(maphash.String(seed, k) & (nShards - 1)) }

// Map is an immutable map; the zero value is empty and ready to use. Copying a
// Map is cheap (one pointer and a count).
type Map[V any] struct {
	shards *[nShards]map[string]V
	n      int
}

// Len is the number of entries.
func (m Map[V]) Len() int { return m.n }

// Get returns the value of k.
func (m Map[V]) Get(k string) (V, bool) {
	if m.shards == nil {
		var zero V
		return zero, false
	}
	v, ok := m.shards[shardOf(k)][k]
	return v, ok
}

// Range calls fn for every entry until fn returns false; order is unspecified.
func (m Map[V]) Range(fn func(k string, v V) bool) {
	if m.shards == nil {
		return
	}
	for _, s := range m.shards {
		for k, v := range s {
			if !fn(k, v) {
				return
			}
		}
	}
}

// Set returns a map with k set to v; m is unchanged.
func (m Map[V]) Set(k string, v V) Map[V] {
	b := m.Builder()
	b.Set(k, v)
	return b.Map()
}

// Delete returns a map without k; m is unchanged.
func (m Map[V]) Delete(k string) Map[V] {
	b := m.Builder()
	b.Delete(k)
	return b.Map()
}

// Builder applies many changes to a copy of a map, copying each touched shard
// once. It must not be used after Map.
type Builder[V any] struct {
	shards *[nShards]map[string]V
	owned  [nShards / 64]uint64
	n      int
	extra  int // room to make in each shard copied (Grow)
}

// Builder starts a batch of changes on top of m.
func (m Map[V]) Builder() *Builder[V] {
	b := &Builder[V]{n: m.n}
	b.shards = new([nShards]map[string]V)
	if m.shards != nil {
		*b.shards = *m.shards
	}
	return b
}

func (b *Builder[V]) shard(i int) map[string]V {
	if b.owned[i/64]&(1<<(i%64)) == 0 {
		old := b.shards[i]
		var cp map[string]V
		if b.extra == 0 && old != nil {
			// A change of a few entries: copy the shard's table as it is,
			// without hashing and inserting each of its ~400 entries again
			// (a third of the time of a consumer change at 100,000).
			cp = maps.Clone(old)
		} else {
			cp = make(map[string]V, len(old)+1+b.extra)
			for k, v := range old {
				cp[k] = v
			}
		}
		b.shards[i] = cp
		b.owned[i/64] |= 1 << (i % 64)
	}
	return b.shards[i]
}

// Grow makes room for about n more entries in the shards the builder has
// not copied yet, so that a large batch (a full load) does not rehash them
// while it grows.
func (b *Builder[V]) Grow(n int) { b.extra = n / nShards }

// Get reads the builder's current state.
func (b *Builder[V]) Get(k string) (V, bool) {
	v, ok := b.shards[shardOf(k)][k]
	return v, ok
}

// Set sets k to v.
func (b *Builder[V]) Set(k string, v V) {
	i := shardOf(k)
	if _, ok := b.shards[i][k]; !ok {
		b.n++
	}
	b.shard(i)[k] = v
}

// Delete removes k.
func (b *Builder[V]) Delete(k string) {
	i := shardOf(k)
	if _, ok := b.shards[i][k]; !ok {
		return
	}
	delete(b.shard(i), k)
	b.n--
}

// Len is the number of entries so far.
func (b *Builder[V]) Len() int { return b.n }

// Map returns the built map.
func (b *Builder[V]) Map() Map[V] {
	m := Map[V]{shards: b.shards, n: b.n}
	b.shards = nil
	return m
}

// GetBytes is Get for a key held in bytes, without converting it to a string.
func (m Map[V]) GetBytes(k []byte) (V, bool) {
	if m.shards == nil {
		var zero V
		return zero, false
	}
	v, ok := m.shards[int(maphash.Bytes(seed, k)&(nShards-1))][string(k)]
	return v, ok
}
