package apisix

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
)

// DefaultKeyring is APISIX's default apisix.data_encryption.keyring: the
// first key encrypts, every key is tried to decrypt.
var DefaultKeyring = []string{"qeddd145sfvddff3", "edd1c9f0985e76a2"}

// ErrDecrypt says a value is not ciphertext of any key in the keyring.
var ErrDecrypt = errors.New("apisix: decrypt failed")

// Keyring encrypts and decrypts plugin encrypt_fields (key-auth's "key") the
// way APISIX's data_encryption does: AES-CBC with each key used as its own IV
// (16 bytes selects AES-128, 32 bytes AES-256), PKCS#7 padding, standard base64.
// An empty keyring stores values in clear, as APISIX does.
type Keyring struct {
	blocks []cipher.Block
	keys   [][]byte
}

// NewKeyring builds a keyring; a key that is not 16 or 32 bytes is an error
// (APISIX refuses to start with one).
func NewKeyring(keys []string) (*Keyring, error) {
	k := &Keyring{}
	for _, s := range keys {
		if len(s) != 16 && len(s) != 32 {
			return nil, fmt.Errorf("apisix: keyring entry must be 16 or 32 bytes, got %d", len(s))
		}
		b, err := aes.NewCipher([]byte(s))
		if err != nil {
			return nil, err
		}
		k.blocks = append(k.blocks, b)
		k.keys = append(k.keys, []byte(s))
	}
	return k, nil
}

// Enabled reports whether values are encrypted at all.
func (k *Keyring) Enabled() bool { return k != nil && len(k.blocks) > 0 }

// Encrypt encrypts with the first key; with no key it returns the value unchanged.
func (k *Keyring) Encrypt(plain string) string {
	if !k.Enabled() {
		return plain
	}
	bs := aes.BlockSize
	pad := bs - len(plain)%bs
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(k.blocks[0], k.keys[0][:bs]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// Decrypt tries every key in order. With no key it returns the value
// unchanged; when no key fits it returns ErrDecrypt, and callers that follow
// APISIX keep the stored value as it is.
func (k *Keyring) Decrypt(stored string) (string, error) {
	if !k.Enabled() {
		return stored, nil
	}
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return "", ErrDecrypt
	}
	out := make([]byte, len(raw))
	for i, b := range k.blocks {
		cipher.NewCBCDecrypter(b, k.keys[i][:aes.BlockSize]).CryptBlocks(out, raw)
		if plain, ok := unpad(out); ok {
			return string(plain), nil
		}
	}
	return "", ErrDecrypt
}

// unpad checks and strips PKCS#7 padding, as OpenSSL's EVP_DecryptFinal does.
func unpad(b []byte) ([]byte, bool) {
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, false
	}
	if !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, false
	}
	return b[:len(b)-n], true
}
