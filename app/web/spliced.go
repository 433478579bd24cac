package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A page most of which every visitor shares is served from pieces kept
// both plain and deflated, with what is the visitor's own (their CSRF
// token, their header) in between: the response costs a checksum and the
// compression of the visitor's own bytes, not a render and a compression
// of the whole page.

// spliced is HTML rendered once with tokenHole wherever the visitor's own
// CSRF token goes, kept in the pieces between the holes. The pieces are
// deflated as one stream, cut by a sync flush (a byte-aligned block
// boundary) on each side of every hole, so each visitor's token goes in as
// a stored block and a piece may still refer back to the pieces before it.
// While compressing, each hole holds bytes that no UTF-8 text contains
// (0xff), of the token's length: no later match can reach into a hole
// (the visitor's token is there when it is decoded), and every distance
// across one stays right.
type spliced struct {
	plain    [][]byte
	deflated [][]byte
	// crcs are the pieces' CRC-32s, and appends the operators that take
	// each into a checksum: a response's checksum takes them in without
	// reading the pieces again.
	crcs    []uint32
	appends []*crcAppender
}

// tokenHole stands in for the CSRF token while a shared page renders: as
// long as a token, of the same alphabet (so no escaping changes it), and
// random, so no title or description can contain it.
var tokenHole = randomHole()

func randomHole() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// holeFill is what each hole holds while the pieces are compressed.
var holeFill = bytes.Repeat([]byte{0xff}, len(tokenHole))

// newSpliced cuts page at each tokenHole and deflates the pieces.
func newSpliced(page []byte) (*spliced, error) {
	sp := &spliced{plain: bytes.Split(page, []byte(tokenHole))}
	// A page that is not UTF-8 (0xff in it) could refer into a hole:
	// each piece is then deflated alone.
	alone := bytes.IndexByte(page, 0xff) >= 0
	var buf bytes.Buffer
	w := keepers.Get().(*flate.Writer)
	defer keepers.Put(w)
	w.Reset(&buf)
	for i, piece := range sp.plain {
		if i > 0 && alone {
			w.Reset(&buf)
		} else if i > 0 {
			// The hole's own encoding is dropped: a stored block with the
			// visitor's token replaces it.
			if _, err := w.Write(holeFill); err != nil {
				return nil, err
			}
			if err := w.Flush(); err != nil {
				return nil, err
			}
			buf.Reset()
		}
		if _, err := w.Write(piece); err != nil {
			return nil, err
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
		sp.deflated = append(sp.deflated, bytes.Clone(buf.Bytes()))
		buf.Reset()
		sp.crcs = append(sp.crcs, crc32.ChecksumIEEE(piece))
		sp.appends = append(sp.appends, newCRCAppender(len(piece)))
	}
	return sp, nil
}

// keepers deflate the shared pieces, which are compressed once and sent
// often; deflaters the visitor's own bytes, compressed per response.
var keepers, deflaters = flatePool(flate.DefaultCompression), flatePool(flate.BestSpeed)

func flatePool(level int) *sync.Pool {
	return &sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, level) // err only for a level out of range
		return w
	}}
}

// write writes the page with token in every hole, gzip-encoded or plain.
func (sp *spliced) write(w io.Writer, gzip bool, token string) {
	b := newBody(w, gzip)
	b.spliced(sp, token)
	b.close()
}

// body writes a response body from shared pieces and the visitor's own
// bytes, in their order: plain, or as one gzip member. Its writer is a
// buffer: write errors are not checked.
type body struct {
	w    io.Writer
	gzip bool
	crc  uint32
	size int
	// tokenBlock is token as a stored block, made once per response.
	token      string
	tokenBlock []byte
}

// gzipHeader is a gzip member's header: deflate, no name, no time, unknown
// OS (RFC 1952).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// storedMax is the longest run of the visitor's own bytes written as a
// stored block rather than compressed.
const storedMax = 256

func newBody(w io.Writer, gzip bool) *body {
	if gzip {
		w.Write(gzipHeader)
	}
	return &body{w: w, gzip: gzip}
}

// spliced writes sp with token in its holes.
func (b *body) spliced(sp *spliced, token string) {
	if !b.gzip || len(token) != len(tokenHole) {
		// Plain, or a token the holes were not made for (distances
		// across a hole would be off): as the visitor's own bytes.
		for i, piece := range sp.plain {
			if i > 0 {
				b.own([]byte(token))
			}
			b.own(piece)
		}
		return
	}
	if b.tokenBlock == nil || b.token != token {
		b.token, b.tokenBlock = token, append(storedHeader(nil, len(token), false), token...)
	}
	for i, piece := range sp.plain {
		if i > 0 {
			b.count(b.tokenBlock[5:])
			b.w.Write(b.tokenBlock)
		}
		b.w.Write(sp.deflated[i])
		b.crc = sp.appends[i].append(b.crc, sp.crcs[i])
		b.size += len(piece)
	}
}

// own writes bytes of this response alone, compressed on their own (with
// nothing before them to refer to, and kept by content) or, when short,
// stored.
func (b *body) own(s []byte) {
	if !b.gzip {
		b.w.Write(s)
		return
	}
	if len(s) == 0 {
		return
	}
	b.count(s)
	if len(s) <= storedMax {
		b.stored(s, false)
		return
	}
	b.w.Write(owned.deflate(s))
}

// ownCache keeps the deflated form of visitors' own runs of bytes by
// their content: a visitor's header, and the end of the page, are mostly
// the same from one page to the next. It forgets everything when it holds
// ownCacheBytes.
type ownCache struct {
	seed  maphash.Seed
	mu    sync.Mutex
	runs  map[uint64]ownRun
	bytes int
}

type ownRun struct{ plain, deflated []byte }

const ownCacheBytes = 8 << 20

var owned = &ownCache{seed: maphash.MakeSeed(), runs: map[uint64]ownRun{}}

// deflate returns s deflated on its own, ending in a sync flush. The
// result must not be modified.
func (c *ownCache) deflate(s []byte) []byte {
	h := maphash.Bytes(c.seed, s)
	c.mu.Lock()
	r, ok := c.runs[h]
	c.mu.Unlock()
	if ok && bytes.Equal(r.plain, s) {
		return r.deflated
	}
	var buf bytes.Buffer
	fw := deflaters.Get().(*flate.Writer)
	fw.Reset(&buf)
	fw.Write(s)
	fw.Flush()
	deflaters.Put(fw)
	r = ownRun{plain: bytes.Clone(s), deflated: buf.Bytes()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes += len(r.plain) + len(r.deflated); c.bytes > ownCacheBytes {
		c.runs, c.bytes = map[uint64]ownRun{}, len(r.plain)+len(r.deflated)
	}
	c.runs[h] = r
	return r.deflated
}

// crcAppender appends a run of one length to a CRC-32, as zlib's
// crc32_combine: newCRCAppender(len(b)).append(crc(a), crc(b)) ==
// crc(a+b). The CRC of a followed by len(b) zero bytes is crc(a) times
// x^(8·len(b)) modulo the polynomial, a linear map of crc(a)'s bits, kept
// as a table of what it makes of each 4 of them. Polynomials are in the
// reflected bit order of hash/crc32's IEEE table.
type crcAppender [8][16]uint32

func newCRCAppender(n int) *crcAppender {
	shift := crcShift(n)
	a := new(crcAppender)
	for j := range a {
		for k := 1; k < 16; k++ {
			a[j][k] = mulModP(shift, uint32(k)<<(4*j))
		}
	}
	return a
}

// append is the CRC of a run whose CRC is crc followed by a run of a's
// length whose CRC is next.
func (a *crcAppender) append(crc, next uint32) uint32 {
	return a[0][crc&15] ^ a[1][crc>>4&15] ^ a[2][crc>>8&15] ^ a[3][crc>>12&15] ^
		a[4][crc>>16&15] ^ a[5][crc>>20&15] ^ a[6][crc>>24&15] ^ a[7][crc>>28] ^ next
}

// crcShift is x^(8n) mod P: appending n bytes, as an operator on a CRC.
func crcShift(n int) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n > 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = mulModP(x2n[k&31], p)
		}
	}
	return p
}

// x2n[k] is x^(2^k) mod P.
var x2n = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = mulModP(p, p)
	}
	return t
}()

// mulModP multiplies a and b modulo the CRC polynomial.
func mulModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ crc32.IEEE
		} else {
			b >>= 1
		}
	}
	return p
}

func (b *body) count(s []byte) {
	b.crc = crc32.Update(b.crc, crc32.IEEETable, s)
	b.size += len(s)
}

// stored writes s (at most 65,535 bytes) as a stored block.
func (b *body) stored(s []byte, final bool) {
	var h [5]byte
	b.w.Write(storedHeader(h[:0], len(s), final))
	b.w.Write(s)
}

// storedHeader appends to dst the header of a stored block of n bytes
// (RFC 1951 3.2.4): three header bits padded to the byte, then LEN and
// its complement.
func storedHeader(dst []byte, n int, final bool) []byte {
	var h byte
	if final {
		h = 1
	}
	dst = append(dst, h)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
	return binary.LittleEndian.AppendUint16(dst, ^uint16(n))
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

// scratch holds the pages rendered for one visitor, before assembly.
var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// partHole marks, in a page rendered for one visitor, where a shared part
// goes (random like tokenHole, so no content can contain it).
var partHole = randomHole()

// assembly is a page rendered for one visitor with a partHole for each
// shared part it refers to, in order.
type assembly struct{ parts []*spliced }

// ref writes the mark of sp to w and records sp.
func (a *assembly) ref(w io.Writer, sp *spliced) error {
	a.parts = append(a.parts, sp)
	_, err := io.WriteString(w, partHole)
	return err
}

// fits reports whether page holds a mark for each of a's parts, and no
// other.
func (a *assembly) fits(page []byte) bool {
	return bytes.Count(page, []byte(partHole)) == len(a.parts)
}

// write writes page, which fits a, with the parts in place of the marks
// and token in their holes.
func (a *assembly) write(w io.Writer, gzip bool, page []byte, token string) {
	b := newBody(w, gzip)
	for _, sp := range a.parts {
		i := bytes.Index(page, []byte(partHole))
		b.own(page[:i])
		b.spliced(sp, token)
		page = page[i+len(partHole):]
	}
	b.own(page)
	b.close()
}

// slotHole marks, in a page rendered once for every signed-in visitor
// (views.Ctx.Slots), where a part of the visitor's own goes; the byte after
// it says which (views.Slot*).
var slotHole = randomHole()

// shell is a page shared by every signed-in visitor of an address but for
// its slots: the pieces between them, spliced for the visitor's token, and
// the slots' kinds in order.
type shell struct {
	pieces []*spliced
	slots  []byte
}

// newShell cuts page at each slot mark.
func newShell(page []byte) (*shell, error) {
	f := &shell{}
	for {
		i := bytes.Index(page, []byte(slotHole))
		if i < 0 || i+len(slotHole) == len(page) {
			break
		}
		sp, err := newSpliced(page[:i])
		if err != nil {
			return nil, err
		}
		f.pieces = append(f.pieces, sp)
		f.slots = append(f.slots, page[i+len(slotHole)])
		page = page[i+len(slotHole)+1:]
	}
	sp, err := newSpliced(page)
	if err != nil {
		return nil, err
	}
	f.pieces = append(f.pieces, sp)
	return f, nil
}

// write writes the page with token in every hole and fill's bytes in each
// slot: fill writes slot kind to b (b.own, b.spliced).
func (f *shell) write(w io.Writer, gzip bool, token string, fill func(b *body, kind byte)) {
	b := newBody(w, gzip)
	for i, sp := range f.pieces {
		if i > 0 {
			fill(b, f.slots[i-1])
		}
		b.spliced(sp, token)
	}
	b.close()
}
