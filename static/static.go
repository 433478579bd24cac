// Package static embeds Gavel's stylesheet, icons and the vendored htmx
// files. Pages link them through URL, which adds a content hash so the files
// can be cached for a year and still change the moment they are edited.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// FS holds the files, by their path below static/ ("css/app.css").
//
//go:embed css js img
var FS embed.FS

// Versions maps each file's path to a short hash of its content.
var versions = hashAll()

func hashAll() map[string]string {
	v := map[string]string{}
	fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error { //nolint:errcheck // embedded files cannot fail to walk
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := FS.ReadFile(path)
		sum := sha256.Sum256(b)
		v[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
}

// Version returns the content hash of the file at path, or "" when there is
// no such file.
func Version(path string) string { return versions[path] }

// URL returns the address to link the file at path with: /static/PATH?v=HASH.
func URL(path string) string { return "/static/" + path + "?v=" + versions[path] }
