package plugin

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unsafe"

	"devportal/gateway/dataplane/internal/jsonscan"
)

// decodeFast reads a consumer-restriction configuration of the usual shape
// (type, whitelist / blacklist of plain names, rejected_code, rejected_msg,
// each once) in one pass, the names slices of raw: a whitelist of
// 100,000 consumers costs one scan instead of encoding/json's four. ok is
// false for anything else; NewRestriction then decodes with encoding/json.
func (r *Restriction) decodeFast(raw json.RawMessage) (hasW, hasB, ok bool) {
	s := jsonscan.Scanner{B: raw}
	if !s.Byte('{') {
		return false, false, false
	}
	str := keep(raw)
	r.src = str
	seen := map[string]bool{}
	if !s.Byte('}') {
		for {
			ks, ke, ok := s.String()
			if !ok || !s.Byte(':') {
				return false, false, false
			}
			key := str[ks:ke]
			if seen[key] {
				return false, false, false
			}
			seen[key] = true
			switch key {
			case "type", "rejected_msg":
				a, b, ok := s.String()
				if !ok {
					return false, false, false
				}
				if key == "type" {
					r.Type = str[a:b]
				} else {
					msg := str[a:b]
					r.RejectedMsg = &msg
				}
			case "whitelist":
				s.WS()
				start := s.I
				n, ok := s.CountStrings()
				if !ok {
					return false, false, false
				}
				r.whiteN, r.whiteIn, hasW = n, [2]int{start, s.I}, true
			case "blacklist":
				list, ok := s.Strings(str)
				if !ok {
					return false, false, false
				}
				r.Blacklist, hasB = list, true
			case "rejected_code":
				a, b, ok := s.Value()
				if !ok {
					return false, false, false
				}
				code, err := strconv.Atoi(str[a:b])
				if err != nil {
					return false, false, false
				}
				r.RejectedCode = code
			default:
				return false, false, false
			}
			if s.Byte('}') {
				break
			}
			if !s.Byte(',') {
				return false, false, false
			}
		}
	}
	return hasW, hasB, s.End()
}

// splice is the restriction of raw made from prev when raw is prev's
// configuration with names changed in one place of the whitelist (what
// approving or revoking subscriptions writes): only the changed names are
// read and validated, the rest of raw being prev's bytes, which were, and
// the set copies only the shards the names touch. nil when raw is not such
// a change of a restriction decodeFast read.
func (prev *Restriction) splice(raw json.RawMessage) *Restriction {
	if prev == nil || !prev.whiteInSrc() {
		return nil
	}
	p, q := jsonscan.Common(prev.src, raw)
	if p == len(prev.src) && p == len(raw) {
		return prev
	}
	if len(prev.src)-q >= prev.whiteIn[1] {
		return nil // the closing bracket changed, or what follows
	}
	old := bytesOf(prev.src)
	sp, ok := jsonscan.StringsSplice(old, raw, prev.whiteIn[0]+1, p, q)
	if !ok {
		return nil
	}
	// StringsSplice read both runs of elements: each is one or more names.
	var removed, added []string
	so := jsonscan.Scanner{B: old, I: sp.A}
	so.Elements(sp.B, func(a, b int) { removed = append(removed, prev.src[a:b]) })
	r := *prev
	r.src = keep(raw)
	r.whiteIn[1] += len(raw) - len(prev.src)
	sn := jsonscan.Scanner{B: raw, I: sp.A}
	sn.Elements(sp.NewB, func(a, b int) { added = append(added, r.src[a:b]) })
	r.whiteN = prev.whiteN - len(removed) + len(added)
	if prev.white.shards == nil || r.whiteN < bigSet || len(removed)+len(added) > bigSet {
		r.white = newNameSet(r.whitelist())
	} else {
		r.white = prev.white.change(removed, added)
	}
	return &r
}

// keep is raw as a string, not copied: the configurations compiled are
// kept as they are given (see Compile), and the names of a whitelist of
// 100,000 consumers are slices of it.
func keep(raw json.RawMessage) string { return unsafe.String(unsafe.SliceData(raw), len(raw)) }

// bytesOf is s's bytes, for reading only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// mayDisable tells whether a plugin's configuration might hold "_meta"
// (encoding/json matches field names case-insensitively, and a key may be
// escaped); when not, it cannot be disabled and is not decoded to check.
func mayDisable(raw json.RawMessage) bool {
	if bytes.IndexByte(raw, '\\') >= 0 {
		return true
	}
	for i := 0; ; {
		n := bytes.Index(raw[i:], []byte(`"_`))
		if n < 0 {
			return false
		}
		i += n + 2
		if len(raw)-i >= 5 && bytes.EqualFold(raw[i:i+5], []byte(`meta"`)) {
			return true
		}
	}
}
