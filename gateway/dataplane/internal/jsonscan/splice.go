package jsonscan

import "bytes"

// Common returns the lengths of the longest common prefix and suffix of a
// and b, which do not overlap in either: a value rewritten with one change
// differs from the old one only in between.
func Common[A, B ~string | ~[]byte](a A, b B) (prefix, suffix int) {
	const chunk = 256
	n := min(len(a), len(b))
	p := 0
	for p+chunk <= n && string(a[p:p+chunk]) == string(b[p:p+chunk]) {
		p += chunk
	}
	for p < n && a[p] == b[p] {
		p++
	}
	q := 0
	for q+chunk <= n-p && string(a[len(a)-q-chunk:len(a)-q]) == string(b[len(b)-q-chunk:len(b)-q]) {
		q += chunk
	}
	for q < n-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	return p, q
}

// Splice is where new differs from old inside one array of strings:
// old[A:B] and new[A:NewB] are each one or more whole elements of that
// array (from the first one's opening quote to the last one's closing
// quote), and old[:A] == new[:A], old[B:] == new[NewB:].
type Splice struct{ A, B, NewB int }

// StringsSplice finds the Splice of new against old, given the lengths p
// and q of their common prefix and suffix (Common). old must be JSON the
// scanner accepts (so its strings hold no quote and quotes alternate
// opening and closing) and from a position in it outside any string. ok
// is false unless the changed bytes lie in a run of array elements that
// are strings the scanner accepts in both: new is then as valid as old,
// having the same structure with other names in one array.
func StringsSplice(old, new []byte, from, p, q int) (Splice, bool) {
	e := len(old) - q
	if p <= from || e < p || len(new)-q < p {
		return Splice{}, false
	}
	quotes := bytes.Count(old[from:p], []byte{'"'})
	// A: the opening quote of the string p is in, or else of the last
	// string before p.
	a := bytes.LastIndexByte(old[from:p], '"')
	if a < 0 {
		return Splice{}, false
	}
	a += from
	if quotes%2 == 0 {
		if a = bytes.LastIndexByte(old[from:a], '"'); a < 0 {
			return Splice{}, false
		}
		a += from
	}
	// B: after the closing quote of the string e is in, e itself when a
	// string ends there, or else after the next string.
	b := e
	if (quotes+bytes.Count(old[p:e], []byte{'"'}))%2 == 1 {
		i := bytes.IndexByte(old[e:], '"')
		if i < 0 {
			return Splice{}, false
		}
		b = e + i + 1
	} else if old[e-1] != '"' {
		i := bytes.IndexByte(old[e:], '"')
		if i < 0 {
			return Splice{}, false
		}
		j := bytes.IndexByte(old[e+i+1:], '"')
		if j < 0 {
			return Splice{}, false
		}
		b = e + i + 1 + j + 1
	}
	newB := b + len(new) - len(old)
	// An array element: after '[' or ',' and before ',' or ']' (a key or
	// an object member's value is next to ':'); and a flat run in old keeps
	// both ends in the same array.
	i := a - 1
	for i >= 0 && (old[i] == ' ' || old[i] == '\t' || old[i] == '\r' || old[i] == '\n') {
		i--
	}
	if i < 0 || (old[i] != '[' && old[i] != ',') {
		return Splice{}, false
	}
	after := Scanner{B: old, I: b}
	if c := after.Peek(); c != ',' && c != ']' {
		return Splice{}, false
	}
	so, sn := Scanner{B: old, I: a}, Scanner{B: new, I: a}
	if !so.Elements(b, nil) || !sn.Elements(newB, nil) {
		return Splice{}, false
	}
	return Splice{A: a, B: b, NewB: newB}, true
}

// Elements reads `"s" (, "s")*` of plain strings ending exactly at end,
// calling fn (when not nil) with the bounds of each string's contents.
func (s *Scanner) Elements(end int, fn func(start, end int)) bool {
	s.B = s.B[:end]
	for {
		a, b, ok := s.String()
		if !ok {
			return false
		}
		if fn != nil {
			fn(a, b)
		}
		if s.End() {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}
