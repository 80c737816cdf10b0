package plugin

import (
	"hash/maphash"
	"strings"
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
	shards *[setShards]map[string]int32
}

func newNameSet(list []string) *nameSet {
	if len(list) == 0 {
		return nil
	}
	s := &nameSet{}
	if len(list) < bigSet {
		s.small = make(map[string]int32, len(list))
		for _, n := range list {
			s.small[n]++
		}
		return s
	}
	s.shards = new([setShards]map[string]int32)
	per := len(list)/setShards + len(list)/(4*setShards) + 1
	for i := range s.shards {
		s.shards[i] = make(map[string]int32, per)
	}
	for _, n := range list {
		s.shards[shardOf(n)][n]++
	}
	return s
}

func shardOf(n string) int { return int(maphash.String(setSeed, n) & (setShards - 1)) }

func (s *nameSet) has(n string) bool {
	if s.shards != nil {
		_, ok := s.shards[shardOf(n)][n]
		return ok
	}
	_, ok := s.small[n]
	return ok
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
	s := &nameSet{shards: new([setShards]map[string]int32)}
	*s.shards = *old.shards
	var copied [setShards]bool
	shard := func(n string) map[string]int32 {
		i := shardOf(n)
		if !copied[i] {
			m := make(map[string]int32, len(s.shards[i])+1)
			for k, v := range s.shards[i] {
				m[k] = v
			}
			s.shards[i], copied[i] = m, true
		}
		return s.shards[i]
	}
	for _, n := range removed {
		m := shard(n)
		if m[n] <= 1 {
			delete(m, n)
		} else {
			m[n]--
		}
	}
	for _, n := range added {
		// A copy: n may be a slice of the whole new list's text, which
		// the set would otherwise keep alive after that list is replaced.
		shard(n)[strings.Clone(n)]++
	}
	return s
}
