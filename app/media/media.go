// Package media takes in the photos sellers upload. Nothing of an upload is
// trusted: its type is sniffed from the bytes, its size and pixel count are
// capped before it is decoded, and it is re-encoded so that metadata (EXIF
// with GPS positions) and anything hidden after the image data are gone.
// The re-encoded large image and its thumbnail live in PostgreSQL so every
// instance serves the same files.
package media

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"time"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/uptrace/bun"
)

// Limits of an upload and of what is kept.
const (
	// MaxBytes is the largest upload accepted, in bytes.
	MaxBytes = 10 << 20
	// MaxPixels caps width × height: a small file can declare a huge canvas,
	// and decoding it would take gigabytes of memory.
	MaxPixels = 40_000_000
	// LargeSide bounds both sides of the image shown in the auction room.
	LargeSide = 1600
	// ThumbWidth and ThumbHeight bound the thumbnail shown in lists.
	ThumbWidth  = 480
	ThumbHeight = 360
	// jpegQuality keeps photos sharp at about a tenth of their raw size.
	jpegQuality = 85
	// The images table's CHECK limits; an encoding over them is refused here
	// rather than failing the INSERT.
	maxStoredLarge = 10485760
	maxStoredThumb = 1048576
)

// Content types of what Process produces.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// Error is a refused upload. Its text is for logs; users see the message
// named by Key, from the i18n catalog.
type Error struct {
	key string
	msg string
}

// Error describes the refusal for logs.
func (e *Error) Error() string { return "media: " + e.msg }

// Key is the i18n message key that explains the refusal to the uploader.
func (e *Error) Key() string { return e.key }

// Refusals of an upload.
var (
	ErrTooLarge      = &Error{"media.too_large", "file is larger than 10 MB"}
	ErrTooManyPixels = &Error{"media.too_many_pixels", "image has more than 40 megapixels"}
	ErrNotAnImage    = &Error{"media.not_an_image", "not a JPEG, PNG, WebP or GIF image"}
	ErrNotFound      = &Error{"media.not_found", "no such image"}
)

// Key returns the message key of a media refusal, or "" when err is not one
// (then it is a server error, not the uploader's).
func Key(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.key
	}
	return ""
}

// Image is an upload made safe: re-encoded bytes of the large image and of
// the thumbnail, each with its content type.
type Image struct {
	Large     []byte
	LargeType string
	Thumb     []byte
	ThumbType string
	// Width and Height are the large image's, for <img width height>.
	Width  int
	Height int
}

// Process reads an upload and returns it re-encoded: JPEG when it is
// opaque, PNG when it has transparency, turned upright as a JPEG's EXIF
// orientation says, fitted within LargeSide×LargeSide,
// with a thumbnail fitted within ThumbWidth×ThumbHeight. Neither is ever
// upscaled. Its decode may take DecodeBudget.
func Process(r io.Reader) (*Image, error) { return ProcessWithin(r, DecodeBudget) }

// ProcessWithin is Process with a decode budget of its own: past it the
// upload is refused with ErrTooSlow.
func ProcessWithin(r io.Reader, budget time.Duration) (*Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, ErrTooLarge
	}
	dec, err := sniff(data)
	if err != nil {
		return nil, err
	}
	cfg, err := dec.config(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, ErrNotAnImage
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if pixels > MaxPixels {
		return nil, ErrTooManyPixels
	}
	orientation := 1
	switch dec.kind {
	case TypeJPEG:
		scans, progressive, o, err := jpegWalk(data)
		orientation = o
		if err != nil {
			return nil, ErrNotAnImage
		}
		if scans > MaxScans {
			return nil, ErrTooManyScans
		}
		if progressive && pixels > MaxHeavyPixels {
			return nil, ErrTooManyHeavyPixels
		}
	case TypePNG:
		if pngHeavy(data) && pixels > MaxHeavyPixels {
			return nil, ErrTooManyHeavyPixels
		}
	}
	br := &budgetReader{r: bytes.NewReader(data), deadline: time.Now().Add(budget)}
	src, err := dec.decode(br)
	if br.expired {
		return nil, ErrTooSlow
	}
	if err != nil {
		return nil, ErrNotAnImage
	}
	b := src.Bounds()
	// A GIF frame may lie anywhere on its canvas; DecodeConfig checked the
	// canvas, this checks what was actually decoded.
	if b.Empty() || int64(b.Dx())*int64(b.Dy()) > MaxPixels {
		return nil, ErrNotAnImage
	}
	opaque := isOpaque(src)

	// The large image is drawn in the stored orientation and then turned
	// upright: turning it at 1600 px costs far less than at the source's
	// size, and its square bound fits either way.
	lw, lh := fit(b.Dx(), b.Dy(), LargeSide, LargeSide)
	large := orient(resize(src, lw, lh, opaque), orientation)
	lw, lh = large.Bounds().Dx(), large.Bounds().Dy()
	sw, sh := b.Dx(), b.Dy()
	if orientation >= 5 {
		sw, sh = sh, sw
	}
	tw, th := fit(sw, sh, ThumbWidth, ThumbHeight)
	// The thumbnail is drawn from the large image: the same look, and far
	// less work than filtering the original again.
	thumb := resize(large, tw, th, opaque)

	img := &Image{Width: lw, Height: lh}
	if img.Large, img.LargeType, err = encode(large, opaque); err != nil {
		return nil, err
	}
	if img.Thumb, img.ThumbType, err = encode(thumb, opaque); err != nil {
		return nil, err
	}
	if len(img.Large) > maxStoredLarge || len(img.Thumb) > maxStoredThumb {
		return nil, ErrTooLarge
	}
	return img, nil
}

// decoder is one accepted format. The decoders are called directly rather
// than through image.Decode's registry, so only these formats are ever
// parsed, whatever else a dependency registers.
type decoder struct {
	kind   string // the sniffed content type
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// sniff picks the decoder from the content itself; the file name and the
// client's Content-Type are never consulted.
func sniff(data []byte) (decoder, error) {
	switch http.DetectContentType(data) {
	case "image/jpeg":
		return decoder{TypeJPEG, jpeg.DecodeConfig, jpeg.Decode}, nil
	case "image/png":
		return decoder{TypePNG, png.DecodeConfig, png.Decode}, nil
	case "image/gif":
		// gif.Decode stops after the first frame.
		return decoder{"image/gif", gif.DecodeConfig, gif.Decode}, nil
	case "image/webp":
		return decoder{"image/webp", webp.DecodeConfig, webp.Decode}, nil
	}
	return decoder{}, ErrNotAnImage
}

// isOpaque reports whether every pixel is fully opaque. Most decoded types
// answer cheaply (YCbCr always, Paletted from its palette).
func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// fit returns the largest size within maxW×maxH with w×h's aspect ratio,
// never larger than w×h itself.
func fit(w, h, maxW, maxH int) (int, int) {
	if w <= maxW && h <= maxH {
		return w, h
	}
	// Compare w/maxW with h/maxH without floating point.
	if int64(w)*int64(maxH) >= int64(h)*int64(maxW) {
		return maxW, max(1, int(int64(h)*int64(maxW)/int64(w)))
	}
	return max(1, int(int64(w)*int64(maxH)/int64(h))), maxH
}

// resize draws src into a new w×h RGBA image. An opaque source is drawn
// over white so that a JPEG encoder never sees stray alpha.
func resize(src image.Image, w, h int, opaque bool) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if opaque {
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	}
	sb := src.Bounds()
	if sb.Dx() == w && sb.Dy() == h {
		draw.Draw(dst, dst.Bounds(), src, sb.Min, draw.Over)
		return dst
	}
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, sb, draw.Over, nil)
	return dst
}

func encode(img image.Image, opaque bool) ([]byte, string, error) {
	var buf bytes.Buffer
	if opaque {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, "", fmt.Errorf("encode jpeg: %w", err)
		}
		return buf.Bytes(), TypeJPEG, nil
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, "", fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), TypePNG, nil
}

// Save stores img as ownerID's and returns its id.
func Save(ctx context.Context, db bun.IDB, ownerID int64, img *Image) (int64, error) {
	var id int64
	err := db.NewRaw(`INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ownerID, img.Large, img.LargeType, img.Thumb, img.ThumbType, img.Width, img.Height).Scan(ctx, &id)
	if err != nil {
		return 0, fmt.Errorf("save image: %w", err)
	}
	return id, nil
}

// Load returns the bytes and content type of image id: the thumbnail when
// thumb is set, else the large image. A missing image is ErrNotFound.
func Load(ctx context.Context, db bun.IDB, id int64, thumb bool) ([]byte, string, error) {
	q := `SELECT large, large_type FROM images WHERE id = ?`
	if thumb {
		q = `SELECT thumb, thumb_type FROM images WHERE id = ?`
	}
	var data []byte
	var typ string
	err := db.QueryRowContext(ctx, q, id).Scan(&data, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("load image %d: %w", id, err)
	}
	return data, typ, nil
}
