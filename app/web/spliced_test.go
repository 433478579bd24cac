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
		sp.write(&plain, false, token)
		if plain.String() != want {
			t.Fatalf("plain: %q, want %q", plain.String(), want)
		}
		sp.write(&gz, true, token)
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

// A page assembled from kept parts and a visitor's own bytes (runs of any
// length, compressed or stored) is, gzipped, a valid gzip stream of the
// whole, and plain, the whole.
func FuzzAssembly(f *testing.F) {
	// \x01 separates the runs: the visitor's own, a kept part, their own…
	f.Add("<header>alice</header>\x01<li>Lamp</li>\x01tok\x01<li>Vase</li>\x01</html>")
	f.Add("\x01\x01\x01")
	f.Add("")
	f.Add(strings.Repeat("<p>own and long enough to be compressed</p>", 20) + "\x01" + strings.Repeat("<li class=card>kept</li>", 200))
	f.Fuzz(func(t *testing.T, page string) {
		runs := strings.Split(page, "\x01")
		asm := &assembly{}
		var marked bytes.Buffer
		for i, r := range runs {
			if i%2 == 0 {
				marked.WriteString(r)
				continue
			}
			p, err := newPart([]byte(r))
			if err != nil {
				t.Fatal(err)
			}
			if err := asm.ref(&marked, p); err != nil {
				t.Fatal(err)
			}
		}
		want := strings.Join(runs, "")
		if !asm.fits(marked.Bytes()) {
			t.Fatal("the marks do not fit the parts")
		}
		var plain, gz bytes.Buffer
		asm.write(&plain, false, marked.Bytes())
		if plain.String() != want {
			t.Fatalf("plain: %q, want %q", plain.String(), want)
		}
		asm.write(&gz, true, marked.Bytes())
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
