package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"gavel/app/media"
)

// progressiveJPEG builds a valid grayscale progressive JPEG of w×h whose
// image data is `scans` AC scans made only of end-of-band runs: each scan
// costs ~20 bytes and one pass of the decoder over every block. The
// structure of the review's bomb (libjpeg-turbo's LJT-01-003).
func progressiveJPEG(w, h, scans int) []byte { return progressiveJPEGComps(w, h, scans, 1) }

// progressiveJPEGComps is progressiveJPEG with comps full-resolution
// components (3: a 4:4:4 colour image, the costliest layout to decode);
// each scan covers one component in turn, as AC scans must.
func progressiveJPEGComps(w, h, scans, comps int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, body ...byte) {
		b.Write([]byte{0xFF, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(body)+2))
		b.Write(body)
	}
	b.Write([]byte{0xFF, 0xD8})                                        // SOI
	seg(0xDB, append([]byte{0x00}, bytes.Repeat([]byte{1}, 64)...)...) // DQT 0
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(comps)}
	for c := range comps {
		sof = append(sof, byte(c+1), 0x11, 0)
	}
	seg(0xC2, sof...)                                                        // SOF2
	seg(0xC4, append([]byte{0x10, 1}, append(make([]byte, 15), 0xE0)...)...) // DHT AC 0: one 1-bit code, EOBRUN 2^14..
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	runs := (blocks + 32766) / 32767
	// Each run: the code "0" for symbol 0xE0, then 14 one bits: a run of
	// 2^14 + 2^14-1 = 32767 blocks.
	var data []byte
	var acc uint32
	var n uint
	put := func(v uint32, bits uint) {
		acc = acc<<bits | v
		n += bits
		for n >= 8 {
			c := byte(acc >> (n - 8))
			data = append(data, c)
			if c == 0xFF {
				data = append(data, 0x00) // byte stuffing
			}
			n -= 8
		}
	}
	for range runs {
		put(0, 1)
		put(0x3FFF, 14)
	}
	if n > 0 {
		put(1<<(8-n)-1, 8-n) // pad with ones
	}
	for i := range scans {
		seg(0xDA, 1, byte(i%comps+1), 0x00, 1, 63, 0x00) // SOS: Ss=1, Se=63, Ah=Al=0
		b.Write(data)
	}
	b.Write([]byte{0xFF, 0xD9}) // EOI
	return b.Bytes()
}

func TestCraftedProgressiveJPEGWithFewScansIsAccepted(t *testing.T) {
	img, err := media.Process(bytes.NewReader(progressiveJPEG(1000, 800, 10)))
	if err != nil {
		t.Fatalf("a 10-scan progressive JPEG: %v", err)
	}
	if img.Width != 1000 || img.Height != 800 {
		t.Errorf("size %d×%d", img.Width, img.Height)
	}
}

func TestProgressiveJPEGWithTooManyScansIsRefusedBeforeDecoding(t *testing.T) {
	bomb := progressiveJPEG(3000, 3000, 500) // 9 MP: under every pixel cap
	t.Logf("bomb: %d bytes", len(bomb))
	start := time.Now()
	_, err := media.Process(bytes.NewReader(bomb))
	if !errors.Is(err, media.ErrTooManyScans) || media.Key(err) != "media.too_many_scans" {
		t.Fatalf("got %v after %s, want ErrTooManyScans", err, time.Since(start))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing took %s: it was decoded", d)
	}
}

func TestHeavyFormatsHaveALowerPixelCap(t *testing.T) {
	// 15 MP: fine as a baseline JPEG or an 8-bit PNG, too many as a
	// progressive JPEG or a 16-bit or interlaced PNG.
	_, err := media.Process(bytes.NewReader(progressiveJPEG(5000, 3000, 2)))
	if !errors.Is(err, media.ErrTooManyHeavyPixels) || media.Key(err) != "media.too_many_pixels_heavy" {
		t.Errorf("15 MP progressive JPEG: %v, want ErrTooManyHeavyPixels", err)
	}
	for name, ihdr := range map[string]func([]byte){
		"16-bit":     func(h []byte) { h[8] = 16 },
		"interlaced": func(h []byte) { h[12] = 1 },
	} {
		png := pngHeaderWith(5000, 3000, ihdr)
		if _, err := media.Process(bytes.NewReader(png)); !errors.Is(err, media.ErrTooManyHeavyPixels) {
			t.Errorf("15 MP %s PNG: %v, want ErrTooManyHeavyPixels", name, err)
		}
	}
}

func TestDecodeOverItsTimeBudgetIsAbandoned(t *testing.T) {
	// Under the scan cap, but each scan still passes over 140 000 blocks.
	slow := progressiveJPEG(3000, 3000, 60)
	start := time.Now()
	_, err := media.ProcessWithin(bytes.NewReader(slow), 5*time.Millisecond)
	if !errors.Is(err, media.ErrTooSlow) || media.Key(err) != "media.too_slow" {
		t.Fatalf("got %v after %s, want ErrTooSlow", err, time.Since(start))
	}
	// The whole decode would have taken far longer than the budget; it
	// stopped at its next read of the upload.
	if d := time.Since(start); d > time.Second {
		t.Errorf("abandoning took %s", d)
	}
}

func TestMarkerWalkSkipsExtraneousBytesAsTheDecoderDoes(t *testing.T) {
	// image/jpeg skips stray bytes before a marker; the marker walk must
	// too: junk between scans neither hides them from the count nor makes
	// a file the decoder reads refused.
	junk := func(jpg []byte) []byte {
		var out []byte
		for i := 0; i < len(jpg); i++ {
			if i > 2 && jpg[i] == 0xFF && i+1 < len(jpg) && jpg[i+1] == 0xDA {
				out = append(out, 'j', 'u', 'n', 'k')
			}
			out = append(out, jpg[i])
		}
		return out
	}
	if _, err := media.Process(bytes.NewReader(junk(progressiveJPEG(3000, 3000, 200)))); !errors.Is(err, media.ErrTooManyScans) {
		t.Errorf("200 scans behind junk: %v, want ErrTooManyScans", err)
	}
	if _, err := media.Process(bytes.NewReader(junk(progressiveJPEG(800, 600, 5)))); err != nil {
		t.Errorf("5 scans behind junk: %v, want it accepted", err)
	}
}

func TestDecodeAtTheHeavyCapStaysWithinItsMemoryBudget(t *testing.T) {
	// A 12 MP progressive 4:4:4 JPEG is the costliest decode allowed per
	// pixel: media/limits.go reckons 180 MB for the coefficients and the
	// image and ~150 MB to resize. Measured with everything Process
	// allocates, encoding too; at 40 MP (without the lower cap) it would
	// be over 1 GB.
	heavy := progressiveJPEGComps(4000, 3000, 3, 3)
	var ms0, ms1 runtimeMem
	ms0.read()
	if _, err := media.Process(bytes.NewReader(heavy)); err != nil {
		t.Fatalf("a 12 MP progressive JPEG at the cap: %v", err)
	}
	ms1.read()
	grew := (ms1.total - ms0.total) >> 20
	t.Logf("Process allocated %d MB", grew)
	if grew > 400 {
		t.Errorf("Process allocated %d MB, over the ~340 MB media/limits.go assumes", grew)
	}
}
