package plugin

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"strings"
	"sync/atomic"
	"unsafe"
)

// bigSet is the size from which a name set is sharded, so that a changed
// list copies a few shards instead of building a whole new set.
const bigSet = 1024

const setShards = 256

var setSeed = maphash.MakeSeed()

// nameSet is an immutable set of names (a consumer-restriction list). A
// large one is split in shards by hash so that the set of a list that
// changed by a few names shares every untouched shard with the old set.
// Counts, not presence, are kept: a list may name someone twice, and
// dropping one occurrence must keep the name.
type nameSet struct {
	small  map[string]int32
	shards *[setShards]*nameShard
	// clash holds the names of a sharded set whose 64-bit hash is taken by
	// another name of the set (about one set in a billion has one).
	clash map[string]int32
	// gen tells this set's content from every other set's, for the answers
	// consumers remember (hasUser).
	gen uint64
}

// setGen numbers the sets as they are made; 0 is never one's.
var setGen atomic.Uint64

// nameShard is a shard of a large set, without pointers for the garbage
// collector to follow: the names packed in one byte slice, found through a
// map from their hash to where they are. A map of strings per shard made
// the collector walk every name of every whitelist (a million at ten
// routes of 100,000) on each cycle.
type nameShard struct {
	names []byte            // each name: its length (uvarint), then its bytes
	index map[uint64]uint64 // hash -> offset in names << 32 | count
}

func newShard(n int) *nameShard {
	return &nameShard{names: make([]byte, 0, n*12), index: make(map[uint64]uint64, n)}
}

// at is the name stored at offset off.
func (sh *nameShard) at(off uint64) string {
	l, k := binary.Uvarint(sh.names[off:])
	if l == 0 {
		return ""
	}
	return unsafe.String(&sh.names[off+uint64(k)], int(l))
}

// add counts one more n (hash h); false when h belongs to another name.
func (sh *nameShard) add(h uint64, n string, count uint64) bool {
	if v, ok := sh.index[h]; ok {
		if sh.at(v>>32) != n {
			return false
		}
		sh.index[h] = v + count
		return true
	}
	off := uint64(len(sh.names))
	sh.names = binary.AppendUvarint(sh.names, uint64(len(n)))
	sh.names = append(sh.names, n...)
	sh.index[h] = off<<32 | count
	return true
}

// remove counts one fewer n; false when n is not in the shard.
func (sh *nameShard) remove(h uint64, n string) bool {
	v, ok := sh.index[h]
	if !ok || sh.at(v>>32) != n {
		return false
	}
	if v&0xffffffff <= 1 {
		delete(sh.index, h)
	} else {
		sh.index[h] = v - 1
	}
	return true
}

// clone is a copy of sh holding only its names still counted.
func (sh *nameShard) clone() *nameShard {
	c := newShard(len(sh.index) + 1)
	for h, v := range sh.index {
		c.add(h, sh.at(v>>32), v&0xffffffff)
	}
	return c
}

func newNameSet(list []string) *nameSet {
	if len(list) == 0 {
		return nil
	}
	s := &nameSet{gen: setGen.Add(1)}
	if len(list) < bigSet {
		s.small = make(map[string]int32, len(list))
		for _, n := range list {
			s.small[n]++
		}
		return s
	}
	s.shards = new([setShards]*nameShard)
	per := len(list)/setShards + len(list)/(4*setShards) + 1
	for i := range s.shards {
		s.shards[i] = newShard(per)
	}
	for _, n := range list {
		s.put(hashOf(n), n)
	}
	return s
}

func hashOf(n string) uint64 { return maphash.String(setSeed, n) }

// put counts one more n, whose hash is h, in a sharded set whose shards it
// may change.
func (s *nameSet) put(h uint64, n string) {
	if !s.shards[h&(setShards-1)].add(h, n, 1) {
		if s.clash == nil {
			s.clash = map[string]int32{}
		}
		s.clash[strings.Clone(n)]++
	}
}

func (s *nameSet) has(n string) bool {
	if s.shards != nil {
		h := hashOf(n)
		sh := s.shards[h&(setShards-1)]
		if v, ok := sh.index[h]; ok && sh.at(v>>32) == n {
			return true
		}
		return s.clash[n] > 0
	}
	_, ok := s.small[n]
	return ok
}

// hasUser is has(c.Username), remembered in c for the last set asked: a
// consumer's next request on the same route then reads its own memory
// instead of a table of 100,000 names (a few cache misses, ~1.4 µs a
// request under load). A set changes generation when its names change,
// so what c remembers of an older set is only a miss.
func (s *nameSet) hasUser(c *Consumer) bool {
	if v := c.memo.inSet.Load(); v>>1 == s.gen {
		return v&1 == 1
	}
	in := s.has(c.Username)
	v := s.gen << 1
	if in {
		v |= 1
	}
	c.memo.inSet.Store(v)
	return in
}

// derive is the set of list, made from old, the set of oldList, when the
// two lists differ by a few names in one place (a name added, removed or
// replaced, which is all the control core does per write); otherwise the set
// is built anew.
func derive(old *nameSet, oldList, list []string) *nameSet {
	if old == nil || old.shards == nil || len(list) < bigSet {
		return newNameSet(list)
	}
	p := 0
	for p < len(oldList) && p < len(list) && oldList[p] == list[p] {
		p++
	}
	q := 0
	for q < len(oldList)-p && q < len(list)-p && oldList[len(oldList)-1-q] == list[len(list)-1-q] {
		q++
	}
	removed, added := oldList[p:len(oldList)-q], list[p:len(list)-q]
	if len(removed)+len(added) > bigSet {
		return newNameSet(list)
	}
	return old.change(removed, added)
}

// change is old, a sharded set, with the names removed taken out and the
// names added put in: only the shards these touch are copied.
func (old *nameSet) change(removed, added []string) *nameSet {
	if len(removed)+len(added) == 0 {
		return old
	}
	s := &nameSet{shards: new([setShards]*nameShard), gen: setGen.Add(1)}
	*s.shards = *old.shards
	if old.clash != nil {
		s.clash = maps.Clone(old.clash)
	}
	var copied [setShards]bool
	shard := func(h uint64) *nameShard {
		i := h & (setShards - 1)
		if !copied[i] {
			s.shards[i], copied[i] = s.shards[i].clone(), true
		}
		return s.shards[i]
	}
	for _, n := range removed {
		if h := hashOf(n); !shard(h).remove(h, n) {
			if s.clash[n] <= 1 {
				delete(s.clash, n)
			} else {
				s.clash[n]--
			}
		}
	}
	for _, n := range added {
		// The shard copies n's bytes: n may be a slice of the whole new
		// list's text, which the set must not keep alive.
		h := hashOf(n)
		shard(h)
		s.put(h, n)
	}
	return s
}
