package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"

	"gavel/app/db/dbtest"
	"gavel/app/media"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// photo is an opaque gradient: something a JPEG encoder has work to do on.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 0xff})
		}
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decodeOut(t *testing.T, data []byte, typ string) image.Image {
	t.Helper()
	var img image.Image
	var err error
	switch typ {
	case media.TypeJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case media.TypePNG:
		img, err = png.Decode(bytes.NewReader(data))
	default:
		t.Fatalf("unexpected output type %q", typ)
	}
	if err != nil {
		t.Fatalf("output does not decode as %s: %v", typ, err)
	}
	return img
}

func TestEveryAcceptedFormatIsReencoded(t *testing.T) {
	transparent := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	transparent.Set(3, 3, color.NRGBA{255, 0, 0, 128})

	var gifBuf bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 64, 48), []color.Color{color.Black, color.White})
	pal.SetColorIndex(5, 5, 1)
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	lossy, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	lossless, err := os.ReadFile("testdata/gopher-doc.1bpp.lossless.webp")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		data     []byte
		wantType string
	}{
		{"jpeg", encodeJPEG(t, photo(200, 100)), media.TypeJPEG},
		{"png opaque", encodePNG(t, photo(120, 90)), media.TypeJPEG},
		{"png transparent", encodePNG(t, transparent), media.TypePNG},
		{"gif", gifBuf.Bytes(), media.TypeJPEG},
		{"webp lossy", lossy, media.TypeJPEG},
		{"webp lossless", lossless, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := media.Process(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if tc.wantType != "" && img.LargeType != tc.wantType {
				t.Errorf("large type %s, want %s", img.LargeType, tc.wantType)
			}
			if img.ThumbType != img.LargeType {
				t.Errorf("thumb type %s differs from large %s", img.ThumbType, img.LargeType)
			}
			large := decodeOut(t, img.Large, img.LargeType)
			if got := large.Bounds().Size(); got.X != img.Width || got.Y != img.Height {
				t.Errorf("large is %v, Image says %dx%d", got, img.Width, img.Height)
			}
			decodeOut(t, img.Thumb, img.ThumbType)
		})
	}
}

// jpegWithPayload builds a JPEG with an APP1 Exif segment after SOI and a
// script appended after EOI: both must be gone from the output.
func jpegWithPayload(t *testing.T) []byte {
	t.Helper()
	plain := encodeJPEG(t, photo(64, 64))
	exif := []byte("Exif\x00\x00GPS-SECRET-LOCATION")
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exif)+2))
	var b bytes.Buffer
	b.Write(plain[:2]) // SOI
	b.Write(seg)
	b.Write(exif)
	b.Write(plain[2:])
	b.WriteString("<script>alert('TRAILING-PAYLOAD')</script>")
	return b.Bytes()
}

func TestMetadataAndTrailingPayloadAreRemoved(t *testing.T) {
	in := jpegWithPayload(t)
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("the crafted input should be a valid JPEG: %v", err)
	}
	img, err := media.Process(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range [][]byte{img.Large, img.Thumb} {
		for _, secret := range []string{"Exif", "GPS-SECRET-LOCATION", "TRAILING-PAYLOAD", "<script"} {
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("output still contains %q", secret)
			}
		}
		if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
			t.Error("output does not end at the JPEG EOI marker")
		}
	}
}

func TestHTMLRenamedAsJPEGIsRefused(t *testing.T) {
	for _, body := range []string{
		"<!DOCTYPE html><html><script>alert(1)</script></html>",
		"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
		"",
		"\xFF\xD8\xFF garbage that only starts like a JPEG",
	} {
		_, err := media.Process(strings.NewReader(body))
		if !errors.Is(err, media.ErrNotAnImage) {
			t.Errorf("Process(%.20q) = %v, want ErrNotAnImage", body, err)
		}
		if media.Key(err) != "media.not_an_image" {
			t.Errorf("Key = %q", media.Key(err))
		}
	}
}

func TestTooLargeUploadIsRefused(t *testing.T) {
	data := make([]byte, media.MaxBytes+1)
	copy(data, encodeJPEG(t, photo(8, 8)))
	_, err := media.Process(bytes.NewReader(data))
	if !errors.Is(err, media.ErrTooLarge) || media.Key(err) != "media.too_large" {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

// pngHeader returns a PNG whose IHDR declares w×h and whose image data is a
// few bytes: a decompression bomb's shape.
func pngHeader(w, h uint32) []byte { return pngHeaderWith(w, h, nil) }

// pngHeaderWith is pngHeader with the IHDR fields changed by edit (bit
// depth at 8, interlace at 12).
func pngHeaderWith(w, h uint32, edit func(ihdr []byte)) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA: 4 bytes a pixel once decoded
	if edit != nil {
		edit(ihdr)
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestDecompressionBombIsRefusedBeforeDecoding(t *testing.T) {
	bomb := pngHeader(100_000, 100_000) // 40 GB as RGBA
	var ms0, ms1 runtimeMem
	ms0.read()
	_, err := media.Process(bytes.NewReader(bomb))
	ms1.read()
	if !errors.Is(err, media.ErrTooManyPixels) || media.Key(err) != "media.too_many_pixels" {
		t.Fatalf("got %v, want ErrTooManyPixels", err)
	}
	if grew := ms1.total - ms0.total; grew > 64<<20 {
		t.Errorf("refusing the bomb allocated %d MB: it was decoded", grew>>20)
	}
}

func TestThumbnailsAndLargeStayWithinBoundsAndAreNotUpscaled(t *testing.T) {
	for _, tc := range []struct{ w, h, lw, lh, tw, th int }{
		{3200, 1600, 1600, 800, 480, 240},
		{1000, 3000, 533, 1600, 120, 360},
		{640, 480, 640, 480, 480, 360},
		{100, 50, 100, 50, 100, 50},
		{4000, 1, 1600, 1, 480, 1},
	} {
		img, err := media.Process(bytes.NewReader(encodePNG(t, photo(tc.w, tc.h))))
		if err != nil {
			t.Fatalf("%dx%d: %v", tc.w, tc.h, err)
		}
		large := decodeOut(t, img.Large, img.LargeType).Bounds().Size()
		thumb := decodeOut(t, img.Thumb, img.ThumbType).Bounds().Size()
		if large.X != tc.lw || large.Y != tc.lh || thumb.X != tc.tw || thumb.Y != tc.th {
			t.Errorf("%dx%d: large %v thumb %v, want %dx%d and %dx%d", tc.w, tc.h, large, thumb, tc.lw, tc.lh, tc.tw, tc.th)
		}
	}
}

func TestSaveAndLoadRoundTrip(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	var owner int64
	if err := db.QueryRowContext(ctx, `INSERT INTO users (provider, provider_user_id, nick)
		VALUES ('dev', 'u1', 'owner') RETURNING id`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	img, err := media.Process(bytes.NewReader(encodeJPEG(t, photo(900, 600))))
	if err != nil {
		t.Fatal(err)
	}
	id, err := media.Save(ctx, db, owner, img)
	if err != nil {
		t.Fatal(err)
	}
	for _, thumb := range []bool{false, true} {
		data, typ, err := media.Load(ctx, db, id, thumb)
		if err != nil {
			t.Fatal(err)
		}
		want := img.Large
		if thumb {
			want = img.Thumb
		}
		if typ != media.TypeJPEG || !bytes.Equal(data, want) {
			t.Errorf("thumb=%v: got %s %d bytes", thumb, typ, len(data))
		}
	}
	if _, _, err := media.Load(ctx, db, id+1000, false); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("missing image: %v", err)
	}
}
