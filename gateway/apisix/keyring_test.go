package apisix

import (
	"errors"
	"testing"
)

func TestKeyringRoundTrip(t *testing.T) {
	k, err := NewKeyring(DefaultKeyring)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"", "a", "auth-one", "0123456789abcdef", "a-key-of-exactly-thirty-two-byte"} {
		enc := k.Encrypt(plain)
		if enc == plain {
			t.Fatalf("Encrypt(%q) left the value in clear", plain)
		}
		got, err := k.Decrypt(enc)
		if err != nil || got != plain {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q, %v", plain, got, err)
		}
	}
}

// Ciphertexts that APISIX itself stored with keyring [edd1c9f0985e76a2]
// (its t/node/data_encrypt.t), and one from `openssl enc -aes-128-cbc` with
// the default keyring's first key as key and IV.
func TestKeyringMatchesAPISIX(t *testing.T) {
	one, _ := NewKeyring([]string{"edd1c9f0985e76a2"})
	def, _ := NewKeyring(DefaultKeyring)
	for _, c := range []struct {
		k            *Keyring
		plain, store string
	}{
		{one, "bar", "77+NmbYqNfN+oLm0aX5akg=="},
		{one, "auth-two", "vU/ZHVJw7b0XscDJ1Fhtig=="},
		{def, "auth-one", "4y+JvURBE6ZwRbbgaryrhg=="},
	} {
		if got := c.k.Encrypt(c.plain); got != c.store {
			t.Errorf("Encrypt(%q) = %q, want %q", c.plain, got, c.store)
		}
		if got, err := def.Decrypt(c.store); err != nil || got != c.plain {
			t.Errorf("Decrypt(%q) = %q, %v", c.store, got, err)
		}
	}
}

func TestKeyringSecondKeyDecrypts(t *testing.T) {
	old, _ := NewKeyring([]string{"edd1c9f0985e76a2"})
	both, _ := NewKeyring(DefaultKeyring)
	got, err := both.Decrypt(old.Encrypt("rotated"))
	if err != nil || got != "rotated" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestKeyringRejectsWrongInput(t *testing.T) {
	k, _ := NewKeyring(DefaultKeyring)
	for _, s := range []string{"not base64!", "YWJj", "auth-one"} {
		if _, err := k.Decrypt(s); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Decrypt(%q) err = %v, want ErrDecrypt", s, err)
		}
	}
	if _, err := NewKeyring([]string{"short"}); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	empty, _ := NewKeyring(nil)
	if got := empty.Encrypt("x"); got != "x" {
		t.Errorf("empty keyring encrypted: %q", got)
	}
}

func TestAES256Key(t *testing.T) {
	k, err := NewKeyring([]string{"0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Decrypt(k.Encrypt("v")); err != nil || got != "v" {
		t.Fatalf("got %q %v", got, err)
	}
}
