// Package secrets makes API keys and keeps them: generated from crypto/rand,
// hashed for lookup, sealed with the server's secret for the reconciler.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrOpen says a sealed value was not sealed with this secret.
var ErrOpen = errors.New("secrets: cannot open sealed value")

// KeyPrefix starts every API key, so leaked keys are easy to scan for.
const KeyPrefix = "dpk_"

// NewAPIKey returns a fresh key: the prefix and 256 random bits.
func NewAPIKey() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashKey is the lookup hash of a key (hex SHA-256; keys carry 256 random
// bits, so no salt is needed).
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// SameHash compares two hashes in constant time.
func SameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Hint is what may be shown of a key after its creation: its first characters.
func Hint(key string) string {
	if len(key) <= len(KeyPrefix)+4 {
		return KeyPrefix
	}
	return key[:len(KeyPrefix)+4]
}

// Box seals values with AES-256-GCM under a key derived from the server secret.
type Box struct{ aead cipher.AEAD }

// NewBox derives the sealing key from secret (at least 16 characters).
func NewBox(secret string) (*Box, error) {
	if len(secret) < 16 {
		return nil, errors.New("secrets: the server secret must be at least 16 characters")
	}
	k := sha256.Sum256([]byte("devportal/secrets/v1:" + secret))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain; the result is base64 of nonce and ciphertext.
func (b *Box) Seal(plain string) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), nil))
}

// Open decrypts what Seal made.
func (b *Box) Open(sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// LoadOrCreate reads the server secret from path, creating it (0600, 256
// random bits) on first start. Replicas sharing a database must share it:
// set DEVPORTAL_SECRET instead.
func LoadOrCreate(path string) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 16 {
			return "", false, fmt.Errorf("secrets: %s holds less than 16 characters", path)
		}
		return s, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", false, err
	}
	s := base64.RawURLEncoding.EncodeToString(r[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	if _, err := f.WriteString(s + "\n"); err != nil {
		return "", false, err
	}
	return s, true, f.Sync()
}
