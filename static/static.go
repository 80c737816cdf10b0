// Package static holds the site's CSS, JS and images, embedded in the binary.
// URL gives each file a content-hashed address (/static/<hash>/<name>) that
// can be cached for a year; a new build changes the hash.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed css js
var files embed.FS

// Prefix is where the files are served.
const Prefix = "/static/"

// FS is the embedded files, named like "css/app.css".
var FS fs.FS = files

var hashes = func() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return out
}()

// URL is the versioned address of an embedded file ("css/app.css").
func URL(name string) string {
	h, ok := hashes[name]
	if !ok {
		h = "0"
	}
	return Prefix + h + "/" + name
}

// Lookup resolves a path below Prefix ("<hash>/css/app.css") to the file's
// content and type; current is true when the hash is the file's own, so the
// answer may be cached forever.
func Lookup(p string) (body []byte, contentType string, current, ok bool) {
	hash, name, found := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !found || name == "" || strings.Contains(name, "..") {
		return nil, "", false, false
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return nil, "", false, false
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return b, ct, hashes[name] == hash, true
}
