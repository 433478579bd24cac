package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A page most of which every visitor shares is served from parts kept
// both plain and deflated, with what is the visitor's own (their CSRF
// token, their header, their watch toggles) in between: the response costs
// a checksum and the compression of the visitor's own bytes, not a render
// and a compression of the whole page. A deflate stream may be cut at any
// byte-aligned block boundary (a sync flush), so each part is deflated on
// its own, with no back-reference into what comes before it, and the
// stream goes on from there.

// part is HTML rendered once, with its deflated form: independent blocks
// ending in a sync flush, none of them final.
type part struct {
	plain    []byte
	deflated []byte
}

func newPart(plain []byte) (part, error) {
	var buf bytes.Buffer
	w := keepers.Get().(*flate.Writer)
	defer keepers.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(plain); err != nil {
		return part{}, err
	}
	if err := w.Flush(); err != nil {
		return part{}, err
	}
	return part{plain: plain, deflated: buf.Bytes()}, nil
}

// keepers deflate the kept parts, which are compressed once and sent
// often; deflaters the visitor's own bytes, compressed per response.
var keepers, deflaters = flatePool(flate.DefaultCompression), flatePool(flate.BestSpeed)

func flatePool(level int) *sync.Pool {
	return &sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, level) // err only for a level out of range
		return w
	}}
}

// newParts cuts b at each sep and makes a part of each piece.
func newParts(b []byte, sep string) ([]part, error) {
	pieces := bytes.Split(b, []byte(sep))
	ps := make([]part, len(pieces))
	for i, piece := range pieces {
		var err error
		if ps[i], err = newPart(piece); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// body writes a response body from parts and the visitor's own bytes, in
// their order: plain, or as one gzip member. Its writer is a buffer: write
// errors are not checked.
type body struct {
	w    io.Writer
	gzip bool
	crc  uint32
	size int
}

// gzipHeader is a gzip member's header: deflate, no name, no time, unknown
// OS (RFC 1952).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// storedMax is the longest run of the visitor's own bytes written as a
// stored block rather than compressed: a token costs less as it is.
const storedMax = 256

func newBody(w io.Writer, gzip bool) *body {
	if gzip {
		w.Write(gzipHeader)
	}
	return &body{w: w, gzip: gzip}
}

// kept writes a part.
func (b *body) kept(p part) {
	if !b.gzip {
		b.w.Write(p.plain)
		return
	}
	b.w.Write(p.deflated)
	b.crc = crc32.Update(b.crc, crc32.IEEETable, p.plain)
	b.size += len(p.plain)
}

// own writes bytes of this response alone.
func (b *body) own(s []byte) {
	if !b.gzip {
		b.w.Write(s)
		return
	}
	if len(s) == 0 {
		return
	}
	b.crc = crc32.Update(b.crc, crc32.IEEETable, s)
	b.size += len(s)
	if len(s) > storedMax {
		fw := deflaters.Get().(*flate.Writer)
		fw.Reset(b.w)
		fw.Write(s)
		fw.Flush()
		deflaters.Put(fw)
		return
	}
	b.stored(s, false)
}

// stored writes s as a stored block (RFC 1951 3.2.4): three header bits
// padded to the byte, then LEN and its complement.
func (b *body) stored(s []byte, final bool) {
	var h [5]byte
	if final {
		h[0] = 1
	}
	n := uint16(len(s))
	binary.LittleEndian.PutUint16(h[1:], n)
	binary.LittleEndian.PutUint16(h[3:], ^n)
	b.w.Write(h[:])
	b.w.Write(s)
}

// close ends the stream: an empty final block, and the gzip trailer.
func (b *body) close() {
	if !b.gzip {
		return
	}
	b.stored(nil, true)
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:], b.crc)
	binary.LittleEndian.PutUint32(t[4:], uint32(b.size))
	b.w.Write(t[:])
}

// spliced is a page rendered once with a placeholder wherever the
// visitor's own CSRF token goes, kept in parts cut at the placeholders.
type spliced struct{ parts []part }

// tokenHole stands in for the CSRF token while a shared page renders: as
// long as a token, of the same alphabet (so no escaping changes it), and
// random, so no title or description can contain it.
var tokenHole = randomHole()

func randomHole() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSpliced cuts page at each tokenHole.
func newSpliced(page []byte) (*spliced, error) {
	ps, err := newParts(page, tokenHole)
	return &spliced{parts: ps}, err
}

// write writes the page with token in every hole, gzip-encoded or plain.
func (p *spliced) write(w io.Writer, gzip bool, token string) {
	b := newBody(w, gzip)
	for i, pt := range p.parts {
		if i > 0 {
			b.own([]byte(token))
		}
		b.kept(pt)
	}
	b.close()
}

// partHole marks, in a page rendered for one visitor, where a kept part
// goes (random like tokenHole, so no content can contain it).
var partHole = randomHole()

// scratch holds the pages rendered for one visitor, before assembly.
var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// assembly is a page rendered for one visitor with a partHole for each
// part it refers to, in order.
type assembly struct{ parts []part }

// ref writes the mark of p to w and records p.
func (a *assembly) ref(w io.Writer, p part) error {
	a.parts = append(a.parts, p)
	_, err := io.WriteString(w, partHole)
	return err
}

// fits reports whether page holds a mark for each of a's parts, and no
// other.
func (a *assembly) fits(page []byte) bool {
	return bytes.Count(page, []byte(partHole)) == len(a.parts)
}

// write writes page, which fits a, with the parts in place of the marks.
func (a *assembly) write(w io.Writer, gzip bool, page []byte) {
	b := newBody(w, gzip)
	for _, p := range a.parts {
		i := bytes.Index(page, []byte(partHole))
		b.own(page[:i])
		b.kept(p)
		page = page[i+len(partHole):]
	}
	b.own(page)
	b.close()
}
