package secrets

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestBoxRoundTripAndTamper(t *testing.T) {
	b, err := NewBox("0123456789abcdef-secret")
	if err != nil {
		t.Fatal(err)
	}
	key := NewAPIKey()
	sealed := b.Seal(key)
	if strings.Contains(sealed, key) || b.Seal(key) == sealed {
		t.Fatal("sealing is not randomized encryption")
	}
	if got, err := b.Open(sealed); err != nil || got != key {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := NewBox("another-secret-of-16+")
	if _, err := other.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("other secret opened it: %v", err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	if _, err := b.Open(string(tampered)); !errors.Is(err, ErrOpen) {
		t.Errorf("tampered value opened: %v", err)
	}
	if _, err := NewBox("short"); err == nil {
		t.Error("short secret accepted")
	}
}

func TestKeysAreUniqueAndHashed(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		k := NewAPIKey()
		if !strings.HasPrefix(k, KeyPrefix) || len(k) != len(KeyPrefix)+43 || seen[k] {
			t.Fatalf("bad or repeated key %q", k)
		}
		seen[k] = true
	}
	k := NewAPIKey()
	if h := HashKey(k); len(h) != 64 || !SameHash(h, HashKey(k)) || SameHash(h, HashKey(k+"x")) {
		t.Fatal("hash")
	}
	if Hint(k) != k[:8] {
		t.Fatalf("hint = %q", Hint(k))
	}
}

func TestLoadOrCreate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "secret")
	s1, created, err := LoadOrCreate(p)
	if err != nil || !created || len(s1) < 32 {
		t.Fatalf("%q %v %v", s1, created, err)
	}
	s2, created, err := LoadOrCreate(p)
	if err != nil || created || s2 != s1 {
		t.Fatalf("second load: %q %v %v", s2, created, err)
	}
}
