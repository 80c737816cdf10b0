package plugin

import (
	"bytes"
	"encoding/json"
	"strconv"

	"devportal/gateway/dataplane/internal/jsonscan"
)

// decodeFast reads a consumer-restriction configuration of the usual shape
// (type, whitelist / blacklist of plain names, rejected_code, rejected_msg,
// each once) in one pass, the names sharing one string: a whitelist of
// 100,000 consumers costs one scan instead of encoding/json's four. ok is
// false for anything else; NewRestriction then decodes with encoding/json.
func (r *Restriction) decodeFast(raw json.RawMessage) (hasW, hasB, ok bool) {
	s := jsonscan.Scanner{B: raw}
	if !s.Byte('{') {
		return false, false, false
	}
	str := string(raw)
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
			case "whitelist", "blacklist":
				list, ok := s.Strings(str)
				if !ok {
					return false, false, false
				}
				if key == "whitelist" {
					r.Whitelist, hasW = list, true
				} else {
					r.Blacklist, hasB = list, true
				}
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
