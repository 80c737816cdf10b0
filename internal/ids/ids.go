// Package ids makes the generated identifiers: short, random, URL- and
// APISIX-safe (APISIX ids match ^[a-zA-Z0-9-_.]+$, at most 64 characters).
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns 16 characters (80 random bits) of lower-case Crockford base32.
func New() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return strings.ToLower(enc.EncodeToString(b[:]))
}
