package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

// A spliced page, gzipped with any token in its holes, is a valid gzip
// stream (checksum and size included) of the page with that token in each
// hole, and its plain form is the same page.
func FuzzSpliced(f *testing.F) {
	f.Add("<html><meta content=\"\x00\">x\x00y</html>", "tok")
	f.Add("\x00", "")
	f.Add("", "a-token-as-long-as-a-real-one-43-characters")
	f.Add(strings.Repeat("<li class=card>Lamp \x00</li>", 300), "T")
	f.Fuzz(func(t *testing.T, page, token string) {
		if len(token) > 1000 {
			return
		}
		// \x00 marks the holes in the seeds' pages.
		sp, err := newSpliced([]byte(strings.ReplaceAll(page, "\x00", tokenHole)))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(page, "\x00", token)
		var plain, gz bytes.Buffer
		sp.writePlain(&plain, token)
		if plain.String() != want {
			t.Fatalf("plain: %q, want %q", plain.String(), want)
		}
		sp.writeGzip(&gz, token)
		zr, err := gzip.NewReader(&gz)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		if string(got) != want {
			t.Fatalf("gzip: %q, want %q", got, want)
		}
	})
}
