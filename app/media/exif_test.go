package media_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"gavel/app/media"
)

// exifJPEG is a 60×40 JPEG (landscape as stored) whose top-left 20×20
// corner is red and the rest blue, with an APP1 Exif segment carrying
// Orientation o (in the byte order order) written right after SOI, as
// cameras write it.
func exifJPEG(t testing.TB, o uint16, order binary.ByteOrder) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for y := range 40 {
		for x := range 60 {
			c := color.RGBA{0, 0, 255, 255}
			if x < 20 && y < 20 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	var tiff bytes.Buffer
	if order == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	binary.Write(&tiff, order, uint16(42))
	binary.Write(&tiff, order, uint32(8)) // IFD0 right after the header
	binary.Write(&tiff, order, uint16(2)) // two entries: a decoy, then Orientation
	binary.Write(&tiff, order, []uint16{0x010F, 2})
	binary.Write(&tiff, order, []uint32{4, 0x41424300}) // Make "ABC"
	binary.Write(&tiff, order, []uint16{0x0112, 3})
	binary.Write(&tiff, order, uint32(1))
	binary.Write(&tiff, order, []uint16{o, 0})
	binary.Write(&tiff, order, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	data := enc.Bytes()
	out := append([]byte{}, data[:2]...)
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, data[2:]...)
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0xc000 && g < 0x4000 && b < 0x4000
}

func TestEXIFOrientationSixIsStoredUprightWithoutItsMetadata(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		data := exifJPEG(t, 6, order)
		img, err := media.Process(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// Orientation 6: the stored pixels are turned a quarter clockwise
		// to show, so 60×40 becomes 40×60 and the red top-left corner
		// becomes the top-right one.
		if img.Width != 40 || img.Height != 60 {
			t.Fatalf("%v: stored %d×%d, want 40×60 (portrait)", order, img.Width, img.Height)
		}
		got, err := jpeg.Decode(bytes.NewReader(img.Large))
		if err != nil {
			t.Fatal(err)
		}
		if b := got.Bounds(); b.Dx() != 40 || b.Dy() != 60 {
			t.Fatalf("%v: large decodes to %v", order, b)
		}
		if !isRed(got.At(35, 5)) || isRed(got.At(5, 5)) || isRed(got.At(35, 55)) {
			t.Errorf("%v: not turned clockwise: top-right %v, top-left %v, bottom-right %v", order,
				got.At(35, 5), got.At(5, 5), got.At(35, 55))
		}
		if bytes.Contains(img.Large, []byte("Exif")) || bytes.Contains(img.Thumb, []byte("Exif")) {
			t.Errorf("%v: the EXIF segment survived re-encoding", order)
		}
		th, err := jpeg.Decode(bytes.NewReader(img.Thumb))
		if err != nil {
			t.Fatal(err)
		}
		if b := th.Bounds(); b.Dx() != 40 || b.Dy() != 60 {
			t.Errorf("%v: thumbnail %v, want the upright 40×60", order, b)
		}
	}
}

func TestEveryEXIFOrientationPutsTheStoredTopLeftCornerWhereItShows(t *testing.T) {
	// Where the stored top-left (red) corner shows once upright, as
	// (right, bottom) halves, and the size.
	want := map[uint16]struct {
		right, bottom bool
		w, h          int
	}{
		1: {false, false, 60, 40}, 2: {true, false, 60, 40}, 3: {true, true, 60, 40}, 4: {false, true, 60, 40},
		5: {false, false, 40, 60}, 6: {true, false, 40, 60}, 7: {true, true, 40, 60}, 8: {false, true, 40, 60},
		0: {false, false, 60, 40}, 9: {false, false, 60, 40}, // out of range: left as stored
	}
	for o, w := range want {
		img, err := media.Process(bytes.NewReader(exifJPEG(t, o, binary.BigEndian)))
		if err != nil {
			t.Fatal(err)
		}
		if img.Width != w.w || img.Height != w.h {
			t.Errorf("orientation %d: %d×%d, want %d×%d", o, img.Width, img.Height, w.w, w.h)
			continue
		}
		got, _ := jpeg.Decode(bytes.NewReader(img.Large))
		x, y := 5, 5
		if w.right {
			x = w.w - 6
		}
		if w.bottom {
			y = w.h - 6
		}
		if !isRed(got.At(x, y)) {
			t.Errorf("orientation %d: the red corner is not at (%d, %d)", o, x, y)
		}
	}
}
