package media_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gavel/app/media"
)

// processBudget is how long one upload may take. A legitimate 40-megapixel
// photo takes about a second here; the review's progressive-JPEG bomb
// takes hours.
const processBudget = 15 * time.Second

// FuzzProcess feeds any bytes to the photo intake. It must not panic or
// run away; it refuses with a media error (a message for the seller, never
// a server error), or returns a re-encoded JPEG or PNG within the size
// caps, whose bytes decode to the size it claims.
func FuzzProcess(f *testing.F) {
	small := image.NewNRGBA(image.Rect(0, 0, 7, 5))
	for i := range small.Pix {
		small.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	png.Encode(&b, small)
	f.Add(b.Bytes())
	b.Reset()
	jpeg.Encode(&b, small, &jpeg.Options{Quality: 50})
	f.Add(b.Bytes())
	b.Reset()
	gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, 3, 9), color.Palette{color.Black, color.White}), nil)
	f.Add(b.Bytes())
	b.Reset()
	png.Encode(&b, image.NewGray16(image.Rect(0, 0, 2000, 1)))
	f.Add(b.Bytes())
	if files, _ := filepath.Glob("testdata/*"); len(files) > 0 {
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 1<<20 {
				f.Add(data)
			}
		}
	}
	// EXIF orientation: both byte orders, and a segment cut short.
	f.Add(exifJPEG(f, 6, binary.BigEndian))
	f.Add(exifJPEG(f, 8, binary.LittleEndian))
	f.Add(exifJPEG(f, 5, binary.BigEndian)[:60])
	f.Add([]byte{})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		img, err := media.Process(bytes.NewReader(data))
		if took := time.Since(start); took > processBudget {
			t.Fatalf("%d bytes took %v to process", len(data), took)
		}
		if err != nil {
			if media.Key(err) == "" {
				t.Fatalf("refused with %v, which is not a media error (the seller would get a 500)", err)
			}
			return
		}
		if img.Width <= 0 || img.Height <= 0 || img.Width > media.LargeSide || img.Height > media.LargeSide {
			t.Fatalf("large image %d×%d", img.Width, img.Height)
		}
		for _, out := range []struct {
			data       []byte
			typ        string
			maxW, maxH int
		}{{img.Large, img.LargeType, media.LargeSide, media.LargeSide}, {img.Thumb, img.ThumbType, media.ThumbWidth, media.ThumbHeight}} {
			var cfg image.Config
			var err error
			switch out.typ {
			case "image/jpeg":
				cfg, err = jpeg.DecodeConfig(bytes.NewReader(out.data))
			case "image/png":
				cfg, err = png.DecodeConfig(bytes.NewReader(out.data))
			default:
				t.Fatalf("served type %q", out.typ)
			}
			if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > out.maxW || cfg.Height > out.maxH {
				t.Fatalf("%s output: %d×%d, %v", out.typ, cfg.Width, cfg.Height, err)
			}
		}
		if cfg, _ := jpegOrPNGConfig(img.Large, img.LargeType); cfg.Width != img.Width || cfg.Height != img.Height {
			t.Fatalf("claims %d×%d, the bytes are %d×%d", img.Width, img.Height, cfg.Width, cfg.Height)
		}
	})
}

func jpegOrPNGConfig(data []byte, typ string) (image.Config, error) {
	if typ == "image/jpeg" {
		return jpeg.DecodeConfig(bytes.NewReader(data))
	}
	return png.DecodeConfig(bytes.NewReader(data))
}
