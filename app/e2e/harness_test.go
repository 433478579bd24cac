package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gavel/app/db/dbtest"
	"gavel/app/server/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// chromium returns the browser's path, skipping the test on a developer
// machine without one and failing it in CI.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but Chromium is missing: install Debian's chromium package (.ci/run does)")
	}
	t.Skip("browser suite skipped: Chromium not found (apt-get install chromium, or set CHROMIUM)")
	return ""
}

// app is the real Gavel on a loopback port, with the dev login on.
type app = servertest.Instance

// startApp runs one instance like main does on a fresh database, with the
// given extra environment.
func startApp(t *testing.T, env map[string]string) *app {
	t.Helper()
	return servertest.Start(t, dbtest.URL(t), env)
}

// browser is one headless Chromium for a test; each user of the test gets a
// browser context of their own (separate cookies), like separate browsers.
type browser struct {
	t    *testing.T
	root context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		// This Chromium keeps pages in the back/forward cache with their
		// SSE stream open: after six navigations HTTP/1.1's six connections
		// per host are all held by cached pages and the next page never
		// loads. Real browsers do the same (see the live layer's notes);
		// until the site answers that, the suite runs without the cache.
		chromedp.Flag("disable-features", "BackForwardCache"),
		// A Korean bidder's browser: the site's default language must win
		// from Accept-Language, and the switcher must override it.
		chromedp.Flag("lang", "ko-KR"),
		chromedp.Flag("accept-lang", "ko-KR,ko"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	// The first Run starts the browser; it must not carry a timeout. Users'
	// browser contexts are made from this started one.
	root, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &browser{t: t, root: root}
}

// user opens a fresh browser context (its own cookie jar) and returns the
// chromedp context of its tab. With js false, the tab runs no JavaScript.
func (b *browser) user(name string, js bool) context.Context {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if js {
			return nil
		}
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})); err != nil {
		t.Fatalf("start %s's browser: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			saveArtifacts(t, ctx, name)
		}
		cancel()
	})
	return ctx
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// saveArtifacts keeps a screenshot and the HTML of a failed test's page.
func saveArtifacts(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gavel-e2e")
	}
	dir = filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644)
	}
	t.Logf("browser artifacts of %s saved in %s", name, dir)
}

// do runs steps with a deadline, failing the test with what was attempted.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// waitFor polls until cond (a JavaScript expression) is true in the page,
// or fails after timeout with the description. Errors while the page
// navigates (a form post, a redirect) are retried.
func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := chromedp.Run(cctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s (%s): not true after %v (last error: %v)", what, cond, timeout, last)
}

// axeViolations runs axe-core (vendored from the npm registry) in the page
// and returns its violations as "rule: target" lines. DevTools evaluation
// is not subject to the page's CSP, so the page itself stays script-free.
func axeViolations(t *testing.T, ctx context.Context) []string {
	t.Helper()
	src, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, string(src)+";true")
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target []string `json:"target"`
		} `json:"nodes"`
	}
	vs := eval[[]violation](t, ctx, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => r.violations)`)
	var out []string
	for _, v := range vs {
		for _, n := range v.Nodes {
			out = append(out, fmt.Sprintf("%s (%s): %s", v.ID, v.Help, strings.Join(n.Target, " ")))
		}
	}
	return out
}
