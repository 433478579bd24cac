package media

import (
	"encoding/binary"
	"image"
)

// EXIF orientation. Phones store a portrait photo as landscape pixels and
// say in the Orientation tag (0x0112 of the Exif IFD0) how to turn them.
// Re-encoding drops the tag with the rest of the metadata, so Process
// turns the pixels first. Only that one tag is read, with the segment
// found by jpegWalk's marker walk (which the fuzz target covers): a full
// EXIF library would be many packages for two bytes.

// exifHeader opens an APP1 segment that holds EXIF.
var exifHeader = []byte("Exif\x00\x00")

// exifOrientation reads the Orientation tag from a TIFF structure (an
// Exif APP1 segment after its header): 1 to 8, or 1 when the tag is
// missing, malformed or out of range.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := int64(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 1
	}
	n := int64(order.Uint16(tiff[ifd:]))
	for k := range n {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(tiff)) {
			return 1
		}
		if order.Uint16(tiff[e:]) != 0x0112 {
			continue
		}
		// SHORT (3), one value, stored in the entry's first two value bytes.
		if order.Uint16(tiff[e+2:]) != 3 || order.Uint32(tiff[e+4:]) != 1 {
			return 1
		}
		if o := int(order.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// orient returns img turned as EXIF orientation o says, so that it shows
// upright: mirrored (2, 4), turned half (3), a quarter either way (6, 8),
// or across a diagonal (5, 7). Orientation 1 (or anything unknown) is img
// itself.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dst.PixOffset(dx, dy):dst.PixOffset(dx, dy)+4], src[4*x:4*x+4])
		}
	}
	return dst
}
