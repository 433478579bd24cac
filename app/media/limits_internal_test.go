package media

import "testing"

// FuzzJPEGShape checks that the marker walk, which reads every upload
// before any decoder does, neither panics nor loops on any input, and
// stops counting once past MaxScans.
func FuzzJPEGShape(f *testing.F) {
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9})
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0x00, 0xFF, 0xD0, 0xFF, 0xD9})
	f.Add([]byte{0xFF, 0xD8, 'j', 'u', 'n', 'k', 0xFF, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		scans, _, _ := jpegShape(data)
		if scans < 0 || scans > MaxScans+1 {
			t.Fatalf("scans %d", scans)
		}
	})
}
