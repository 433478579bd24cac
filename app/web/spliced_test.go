package web

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"hash/crc32"
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
	f.Add(strings.Repeat("<li class=card>Lamp \x00</li>", 300), strings.Repeat("T", len(tokenHole)))
	f.Add("<p>\xff\x00\xff\x00</p>", strings.Repeat("T", len(tokenHole)))
	f.Fuzz(func(t *testing.T, page, token string) {
		if len(token) > 1000 {
			return
		}
		// \x00 marks the holes in the seeds' pages.
		sp, err := newSpliced([]byte(strings.ReplaceAll(page, "\x00", tokenHole)))
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, strings.ReplaceAll(page, "\x00", token), func(w io.Writer, gzip bool) { sp.write(w, gzip, token) })
	})
}

// A page assembled from shared parts (with token holes) and a visitor's
// own bytes (runs of any length, compressed or stored) is, gzipped, a
// valid gzip stream of the whole with the token in the holes, and plain,
// the whole.
func FuzzAssembly(f *testing.F) {
	// \x01 separates the runs: the visitor's own, a shared part, their
	// own…; \x00 is a token hole in a shared part.
	tok := strings.Repeat("t", len(tokenHole))
	f.Add("<header>alice</header>\x01<li>Lamp \x00</li>\x01 own \x01<li>Vase \x00</li>\x01</html>", tok)
	f.Add("\x01\x01\x01", tok)
	f.Add("", "")
	f.Add(strings.Repeat("<p>own and long enough to be compressed</p>", 20)+"\x01"+strings.Repeat("<li class=card>kept \x00</li>", 200), tok)
	f.Add("\x01<li>\xff\x00\xff</li>\x01", tok)
	f.Fuzz(func(t *testing.T, page, token string) {
		if len(token) > 1000 {
			return
		}
		runs := strings.Split(page, "\x01")
		asm := &assembly{}
		var marked, want strings.Builder
		for i, r := range runs {
			if i%2 == 0 {
				marked.WriteString(r)
				want.WriteString(r)
				continue
			}
			sp, err := newSpliced([]byte(strings.ReplaceAll(r, "\x00", tokenHole)))
			if err != nil {
				t.Fatal(err)
			}
			if err := asm.ref(&marked, sp); err != nil {
				t.Fatal(err)
			}
			want.WriteString(strings.ReplaceAll(r, "\x00", token))
		}
		m := []byte(marked.String())
		if !asm.fits(m) {
			t.Fatal("the marks do not fit the parts")
		}
		checkBody(t, want.String(), func(w io.Writer, gzip bool) { asm.write(w, gzip, m, token) })
	})
}

// checkBody checks that write writes want plain, and as one gzip member
// whose checksum and size hold.
func checkBody(t *testing.T, want string, write func(w io.Writer, gzip bool)) {
	t.Helper()
	var plain, gz bytes.Buffer
	write(&plain, false)
	if plain.String() != want {
		t.Fatalf("plain: %q, want %q", plain.String(), want)
	}
	write(&gz, true)
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
}

// A visitor's own run is deflated once and kept by its content: the same
// bytes again reuse it, any other bytes get their own.
func TestOwnRunsAreDeflatedOnceByTheirContent(t *testing.T) {
	inflate := func(d []byte) string {
		t.Helper()
		// A sync-flushed stream: the reader stops at its end.
		b, err := io.ReadAll(flate.NewReader(bytes.NewReader(append(bytes.Clone(d), 1, 0, 0, 0xff, 0xff))))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	alice := []byte(strings.Repeat("<header>alice ₩1,000,000</header>", 40))
	bob := bytes.Replace(alice, []byte("alice"), []byte("bob"), 1)
	one, again, other := owned.deflate(alice), owned.deflate(bytes.Clone(alice)), owned.deflate(bob)
	if &one[0] != &again[0] {
		t.Error("the same run was deflated twice")
	}
	if got := inflate(again); got != string(alice) {
		t.Errorf("alice's run inflates to %.80q", got)
	}
	if got := inflate(other); got != string(bob) {
		t.Errorf("bob's run inflates to %.80q", got)
	}
}

// A shared piece's checksum goes into a response's without reading the
// piece again: the CRC of a+b from the CRCs of a and b.
func TestCRCOfARunFollowedByAnother(t *testing.T) {
	data := make([]byte, 70000)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	for _, cut := range [][2]int{{0, 0}, {0, 1}, {1, 1}, {5, 43}, {100, 4096}, {0, 70000}, {33333, 70000}, {69999, 70000}} {
		a, b := data[:cut[0]], data[cut[0]:cut[1]]
		got := newCRCAppender(len(b)).append(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b))
		if want := crc32.ChecksumIEEE(data[:cut[1]]); got != want {
			t.Errorf("cut %v: %08x, want %08x", cut, got, want)
		}
	}
}
