package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// What one decode may cost. The pixel cap alone does not bound it: Go's
// image/jpeg walks every block of a progressive image once per scan, with
// no limit on the scans (an AC scan of nothing but end-of-band runs is ~20
// bytes, so 10 MB could hold 10⁵ scans of 40 MP: hours of CPU), and keeps
// all the coefficients besides the pixels.
//
// Memory, per upload, at the caps (two run at once, see web's photo slots):
// what the decoder holds, plus the resize's intermediate buffer, which
// golang.org/x/image/draw's kernel scaler allocates as float64 RGBA rows
// of the target width and the source height (32 B × 1 600 × source height):
//   - progressive JPEG, 12 MP 4:4:4: coefficients 3 × 187 500 blocks ×
//     256 B = 144 MB, the 36 MB image, and ~150 MB to resize: measured
//     344 MB allocated in all (TestDecodeAtTheHeavyCapStaysWithinItsMemoryBudget);
//     at 40 MP the coefficients alone would be 480 MB, hence the lower cap;
//   - baseline JPEG, 40 MP 4:4:4: 120 MB image and ~260 MB to resize;
//   - 8-bit RGBA PNG or lossless WebP, 40 MP: 160 MB and ~260 MB;
//   - 16-bit RGBA PNG, 12 MP: 96 MB and ~140 MB (40 MP would be 320 MB
//     for the image alone); interlaced PNGs take the same cap, as their
//     passes are decoded into further buffers.
//
// So one upload peaks at about 425 MB and the two slots at about 850 MB.
// The resize buffer is the largest part: a cheaper prefilter before the
// Catmull-Rom pass would roughly halve it.
const (
	// MaxScans bounds the SOS segments of a JPEG: encoders write 1
	// (baseline) to about 10 (progressive); a few dozen leaves room for
	// unusual ones and bounds the work at 64 passes over the blocks.
	MaxScans = 64
	// MaxHeavyPixels caps progressive JPEG, 16-bit and interlaced PNG,
	// which cost far more memory per pixel to decode.
	MaxHeavyPixels = 12_000_000
	// DecodeBudget is the longest one decode may take. A decode that
	// outlasts it is abandoned at its next read of the upload.
	DecodeBudget = 8 * time.Second
)

// Refusals of costly uploads.
var (
	ErrTooManyScans       = &Error{"media.too_many_scans", "JPEG has more than 64 scans"}
	ErrTooManyHeavyPixels = &Error{"media.too_many_pixels_heavy", "progressive JPEG or 16-bit/interlaced PNG over 12 megapixels"}
	ErrTooSlow            = &Error{"media.too_slow", "decoding took longer than its time budget"}
)

// jpegShape walks a JPEG's markers without decoding anything: it counts the
// scans (SOS segments) and reports whether the frame is progressive. It
// stops at EOI, at the end of data, or once the scans pass MaxScans, and
// fails when a segment runs past the end (the decoder would refuse it).
func jpegShape(data []byte) (scans int, progressive bool, err error) {
	scans, progressive, _, err = jpegWalk(data)
	return scans, progressive, err
}

// jpegWalk is jpegShape that also reads the EXIF orientation (1 to 8, see
// orientation) from the first APP1 Exif segment before the first scan; 1
// when there is none or it makes no sense.
func jpegWalk(data []byte) (scans int, progressive bool, orient int, err error) {
	orient = 1
	seenExif := false
	bad := errors.New("malformed JPEG")
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, false, orient, bad
	}
	i := 2
	for i < len(data) {
		// Like image/jpeg (and libjpeg), skip extraneous bytes before a
		// marker, so this walk sees every marker the decoder will.
		for i < len(data) && data[i] != 0xFF {
			i++
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			return scans, progressive, orient, nil // no EOI: the decoder decides
		}
		m := data[i]
		i++
		switch {
		case m == 0xD9: // EOI
			return scans, progressive, orient, nil
		case m == 0x00: // "\xff\x00" outside a scan: extraneous data
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			continue
		}
		if i+2 > len(data) {
			return scans, progressive, orient, bad
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || i+n > len(data) {
			return scans, progressive, orient, bad
		}
		switch m {
		case 0xC2, 0xC6, 0xCA, 0xCE: // SOF2 and the other progressive frames
			progressive = true
		case 0xE1: // APP1: Exif, XMP, …
			if !seenExif && scans == 0 && bytes.HasPrefix(data[i+2:i+n], exifHeader) {
				seenExif = true
				orient = exifOrientation(data[i+2+len(exifHeader) : i+n])
			}
		case 0xDA: // SOS
			scans++
			if scans > MaxScans {
				return scans, progressive, orient, nil
			}
		}
		i += n
		if m != 0xDA {
			continue
		}
		// Entropy-coded data runs to the next marker: 0xFF followed by
		// neither a stuffed zero, a restart marker nor another 0xFF (fill).
		for i+1 < len(data) {
			if data[i] != 0xFF {
				i++
				continue
			}
			next := data[i+1]
			if next == 0x00 || (next >= 0xD0 && next <= 0xD7) {
				i += 2
				continue
			}
			if next == 0xFF {
				i++
				continue
			}
			break
		}
		if i+1 >= len(data) {
			return scans, progressive, orient, nil // no EOI: the decoder decides
		}
	}
	return scans, progressive, orient, nil
}

// pngHeavy reports whether a PNG (already sniffed, so its IHDR is the first
// chunk) has 16-bit samples or is interlaced.
func pngHeavy(data []byte) bool {
	// Signature (8), chunk length (4), "IHDR" (4), width, height (8), then
	// bit depth, colour type, compression, filter, interlace.
	if len(data) < 8+8+13 {
		return false
	}
	ihdr := data[16:]
	return ihdr[8] == 16 || ihdr[12] != 0
}

// budgetReader hands the decoder the upload a little at a time and fails
// once the deadline has passed, so a decode that takes too long stops at
// its next read instead of running on (a decoder cannot be interrupted
// otherwise). Small reads keep those checks frequent even in a file whose
// every few bytes cost a pass over the whole image.
type budgetReader struct {
	r        io.Reader
	deadline time.Time
	expired  bool
}

// budgetChunk is the most one read returns: about ten cheap JPEG scans.
const budgetChunk = 256

func (b *budgetReader) Read(p []byte) (int, error) {
	if time.Now().After(b.deadline) {
		b.expired = true
		return 0, ErrTooSlow
	}
	if len(p) > budgetChunk {
		p = p[:budgetChunk]
	}
	return b.r.Read(p)
}
