package logbuf_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gavel/app/logbuf"
)

// out counts the writes that reach it.
type out struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (o *out) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes++
	return o.b.Write(p)
}

func (o *out) get() (string, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String(), o.writes
}

// Info lines wait and go out together; a warning takes them and itself
// out at once; the interval and Close write what is left.
func TestLinesAreWrittenTogetherAndWarningsAtOnce(t *testing.T) {
	o := &out{}
	w := logbuf.New(o, time.Hour)
	log := slog.New(logbuf.Handler(slog.NewTextHandler(w, nil), w)).With("app", "gavel")
	for i := range 100 {
		log.Info("request", "n", i)
	}
	if s, n := o.get(); n != 0 || s != "" {
		t.Fatalf("info lines written before a flush: %d writes", n)
	}
	log.Warn("slow database")
	s, n := o.get()
	if n != 1 || strings.Count(s, "\n") != 101 || !strings.Contains(s, "msg=\"slow database\" app=gavel") {
		t.Fatalf("after a warning: %d writes, %d lines:\n%s", n, strings.Count(s, "\n"), s)
	}
	log.Info("last")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s, n := o.get(); n != 2 || !strings.HasSuffix(s, "msg=last app=gavel\n") {
		t.Fatalf("after Close: %d writes, ends %q", n, s[len(s)-40:])
	}

	o2 := &out{}
	w2 := logbuf.New(o2, 20*time.Millisecond)
	defer w2.Close()
	slog.New(logbuf.Handler(slog.NewTextHandler(w2, nil), w2)).Info("tick")
	deadline := time.Now().Add(5 * time.Second)
	for s, _ := o2.get(); !strings.Contains(s, "msg=tick"); s, _ = o2.get() {
		if time.Now().After(deadline) {
			t.Fatal("the interval did not write the line")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// More than the buffer holds is written as it comes, in order.
func TestALongRunIsWrittenInOrder(t *testing.T) {
	o := &out{}
	w := logbuf.New(o, time.Hour)
	var want bytes.Buffer
	for i := range 5000 {
		line := strings.Repeat("x", i%300) + "\n"
		want.WriteString(line)
		w.Write([]byte(line))
	}
	big := strings.Repeat("y", 100<<10) + "\n"
	want.WriteString(big)
	w.Write([]byte(big))
	w.Close()
	if s, n := o.get(); s != want.String() || n < 10 {
		t.Fatalf("%d writes, %d bytes, want %d bytes in order", n, len(s), want.Len())
	}
}
