// Package e2e is Gavel's browser suite: it starts the real app on a
// loopback port against an isolated database and drives Debian's Chromium
// (headless, through chromedp) the way bidders and sellers use the site.
// Everything lives in its tests; `go test ./...` runs them.
//
// The suite skips when Chromium is missing on a developer machine and fails
// when CI is set. On a failure it saves a screenshot and the page's HTML and
// says where. GAVEL_SCREENSHOTS=DIR makes TestScreenshots write PNGs of the
// main pages in both languages into DIR.
package e2e
