// Package jsonscan reads large JSON values quickly for the data plane's
// config decoding: a route that whitelists 100,000 consumers is a value of
// over a megabyte, which encoding/json validates and copies several times
// over. The scanner here is a sound acceptor only: when it says a value is
// well formed it is, but it gives up (ok false) on anything it does not
// handle fast (escapes, non-ASCII strings, deep nesting), and callers then
// take encoding/json's path, which also reports the errors. So results never
// differ from encoding/json's; only the time does.
package jsonscan

import (
	"bytes"
)

// maxDepth bounds nesting; deeper values go the slow way.
const maxDepth = 64

// Scanner walks b from I.
type Scanner struct {
	B []byte
	I int
}

// WS skips whitespace.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\r', '\n':
			s.I++
		default:
			return
		}
	}
}

// Peek is the next byte after whitespace, 0 at the end.
func (s *Scanner) Peek() byte {
	s.WS()
	if s.I >= len(s.B) {
		return 0
	}
	return s.B[s.I]
}

// Byte consumes c (after whitespace) and reports whether it was there.
func (s *Scanner) Byte(c byte) bool {
	if s.Peek() != c {
		return false
	}
	s.I++
	return true
}

// String reads a string whose contents are printable ASCII without escapes
// and returns the bounds of its contents (without the quotes).
func (s *Scanner) String() (start, end int, ok bool) {
	if s.Peek() != '"' {
		return 0, 0, false
	}
	start = s.I + 1
	b := s.B
	end = start
	for end < len(b) && plain[b[end]] {
		end++
	}
	if end == len(b) || b[end] != '"' {
		return 0, 0, false // an escape, a control or non-ASCII byte, or no end
	}
	s.I = end + 1
	return start, end, true
}

// plain marks the bytes a string may hold on the fast path: printable
// ASCII but the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Value skips one value of any kind and returns its bounds.
func (s *Scanner) Value() (start, end int, ok bool) {
	s.WS()
	start = s.I
	if !s.value(0) {
		return 0, 0, false
	}
	return start, s.I, true
}

func (s *Scanner) value(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := s.Peek(); {
	case c == '"':
		_, _, ok := s.String()
		return ok
	case c == '{':
		s.I++
		if s.Byte('}') {
			return true
		}
		for {
			if _, _, ok := s.String(); !ok || !s.Byte(':') || !s.value(depth+1) {
				return false
			}
			if s.Byte('}') {
				return true
			}
			if !s.Byte(',') {
				return false
			}
		}
	case c == '[':
		s.I++
		if s.Byte(']') {
			return true
		}
		for {
			// Most arrays are lists of names: strings go straight to String.
			if s.Peek() == '"' {
				if _, _, ok := s.String(); !ok {
					return false
				}
			} else if !s.value(depth + 1) {
				return false
			}
			if s.I < len(s.B) && s.B[s.I] == ',' {
				s.I++
				continue
			}
			if s.Byte(']') {
				return true
			}
			if !s.Byte(',') {
				return false
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *Scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.B[s.I:], []byte(lit)) {
		return false
	}
	s.I += len(lit)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) number() bool {
	b, i := s.B, s.I
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	s.I = i
	return true
}

// Member is one member of an object: its key and the bounds of its value.
type Member struct {
	Key        string
	Start, End int
}

// Object reads an object whose keys are plain ASCII and distinct (a key
// appearing twice gives up: encoding/json's merge rules then apply) and
// returns its members in order.
func (s *Scanner) Object() ([]Member, bool) {
	if !s.Byte('{') {
		return nil, false
	}
	var out []Member
	if s.Byte('}') {
		return out, true
	}
	for {
		ks, ke, ok := s.String()
		if !ok || !s.Byte(':') {
			return nil, false
		}
		vs, ve, ok := s.Value()
		if !ok {
			return nil, false
		}
		key := string(s.B[ks:ke])
		if len(out) == 256 {
			return nil, false // keeps the duplicate check cheap
		}
		for _, m := range out {
			if m.Key == key {
				return nil, false
			}
		}
		out = append(out, Member{Key: key, Start: vs, End: ve})
		if s.Byte('}') {
			return out, true
		}
		if !s.Byte(',') {
			return nil, false
		}
	}
}

// End reports whether only whitespace is left.
func (s *Scanner) End() bool {
	s.WS()
	return s.I == len(s.B)
}

// Strings reads an array of plain ASCII strings as substrings of str,
// which holds the same bytes as s.B (one allocation for all the names).
func (s *Scanner) Strings(str string) ([]string, bool) {
	var out []string
	ok := s.array(func(n int) { out = make([]string, 0, n) }, func(a, b int) { out = append(out, str[a:b]) })
	return out, ok
}

// CountStrings reads an array of plain ASCII strings and returns how many
// it holds, keeping nothing: a 100,000-name list is then read from its
// text when needed, not held as 100,000 strings.
func (s *Scanner) CountStrings() (int, bool) {
	n := 0
	ok := s.array(func(int) {}, func(int, int) { n++ })
	return n, ok
}

// array reads an array of plain ASCII strings, calling size with at least
// its number of items, then add with the bounds of each one's contents.
func (s *Scanner) array(size func(n int), add func(start, end int)) bool {
	if !s.Byte('[') {
		return false
	}
	if s.Byte(']') {
		size(0)
		return true
	}
	// At most one more item than commas left: no growing a 100,000-name list.
	size(bytes.Count(s.B[s.I:], []byte{','}) + 1)
	for {
		a, b, ok := s.String()
		if !ok {
			return false
		}
		add(a, b)
		if s.I < len(s.B) && s.B[s.I] == ',' {
			s.I++
			continue
		}
		if s.Byte(']') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}
