package web

// For the fuzz targets in fuzz_test.go (package web_test).
var (
	Frame      = frame
	CloseFrame = closeFrame
	ParseWatch = parseWatch
	MaxWatch   = maxWatch
)
