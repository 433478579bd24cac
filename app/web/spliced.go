package web

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// spliced is a page rendered once with a placeholder wherever the
// visitor's own CSRF token goes, kept in pieces, each both plain and
// deflated on its own. Serving it costs the splice and a checksum, not a
// render and a compression: a deflate stream may be cut at any byte-aligned
// block boundary (a sync flush), so the token goes in between as a stored
// block, and the pieces need no back-reference across it.
type spliced struct {
	plain    [][]byte
	deflated [][]byte // every piece but the last ends in a sync flush
	size     int      // of the plain pieces
}

// tokenHole stands in for the CSRF token while a shared page renders: as
// long as a token, of the same alphabet (so no escaping changes it), and
// random, so no title or description can contain it.
var tokenHole = func() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}()

// newSpliced cuts page at each tokenHole and deflates the pieces.
func newSpliced(page []byte) (*spliced, error) {
	p := &spliced{plain: bytes.Split(page, []byte(tokenHole))}
	for i, piece := range p.plain {
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(piece); err != nil {
			return nil, err
		}
		if i < len(p.plain)-1 {
			err = w.Flush()
		} else {
			err = w.Close()
		}
		if err != nil {
			return nil, err
		}
		p.deflated = append(p.deflated, buf.Bytes())
		p.size += len(piece)
	}
	return p, nil
}

// writePlain writes the page with token in every hole.
func (p *spliced) writePlain(w io.Writer, token string) {
	for i, piece := range p.plain {
		if i > 0 {
			io.WriteString(w, token)
		}
		w.Write(piece)
	}
}

// gzipHeader is a gzip member's header: deflate, no name, no time, unknown
// OS (RFC 1952).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// writeGzip writes the page with token in every hole, as one gzip member.
// w is a buffer: its errors are not checked.
func (p *spliced) writeGzip(w io.Writer, token string) {
	w.Write(gzipHeader)
	crc := uint32(0)
	var b [8]byte
	for i, piece := range p.plain {
		if i > 0 {
			// A stored block that is not the last (RFC 1951 3.2.4): its
			// three header bits are zero and padded to the byte; then
			// LEN and its complement.
			n := uint16(len(token))
			b[0] = 0
			binary.LittleEndian.PutUint16(b[1:], n)
			binary.LittleEndian.PutUint16(b[3:], ^n)
			w.Write(b[:5])
			io.WriteString(w, token)
			crc = crc32.Update(crc, crc32.IEEETable, []byte(token))
		}
		w.Write(p.deflated[i])
		crc = crc32.Update(crc, crc32.IEEETable, piece)
	}
	binary.LittleEndian.PutUint32(b[:], crc)
	binary.LittleEndian.PutUint32(b[4:], uint32(p.size+(len(p.plain)-1)*len(token)))
	w.Write(b[:])
}
