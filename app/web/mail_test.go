package web_test

import (
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpServer is a real SMTP server (emersion/go-smtp) on a loopback port
// that keeps what it receives; it refuses the first failFirst messages
// with a temporary error, as a struggling server would.
type smtpServer struct {
	Addr string

	mu        sync.Mutex
	failFirst int
	attempts  int
	got       []*mail.Message
	rcpts     [][]string
}

func startSMTP(t *testing.T, failFirst int) *smtpServer {
	t.Helper()
	s := &smtpServer{failFirst: failFirst}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }

func (s *smtpServer) messages() ([]*mail.Message, [][]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*mail.Message(nil), s.got...), append([][]string(nil), s.rcpts...), s.attempts
}

type smtpSession struct {
	s     *smtpServer
	rcpts []string
}

func (x *smtpSession) Reset()                               { x.rcpts = nil }
func (x *smtpSession) Logout() error                        { return nil }
func (x *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.rcpts = append(x.rcpts, to)
	return nil
}
func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.attempts++
	if x.s.failFirst > 0 {
		x.s.failFirst--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	x.s.got = append(x.s.got, m)
	x.s.rcpts = append(x.s.rcpts, x.rcpts)
	return nil
}

func body(t *testing.T, m *mail.Message) string {
	t.Helper()
	r := m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var unsubLink = regexp.MustCompile(`https?://[^\s]+/mail/unsubscribe\?t=[A-Za-z0-9_\-.]+`)

func TestMailGoesToARealSMTPServerInTheUsersLanguageOnceDespiteAFailureWithAWorkingUnsubscribeLink(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, 1)
	a := start(t, map[string]string{"SMTP_URL": "smtp://" + srv.Addr, "MAIL_FROM": "Gavel <noreply@gavel.test>"}, noLimits)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	// Alice reads English, bob Korean; each gives an address on the profile.
	for _, u := range []struct {
		c          *testApp
		lang, addr string
	}{{alice, "en", "alice@example.com"}, {bob, "ko", "bob@example.com"}} {
		_, page := u.c.get(t, "/me/profile", "Accept-Language", u.lang)
		if page.Find(`[data-testid="mail-prefs"]`).Length() != 1 {
			t.Fatal("no mail settings on the profile")
		}
		vals := url.Values{"remind_before": {"60"}, "mail_to": {u.addr}, "mail_outbid": {"1"}, "mail_won": {"1"}, "mail_sold": {"1"}, "mail_ending": {"1"}}
		if resp, _ := u.c.postForm(t, "/me/profile/notifications", vals, "Accept-Language", u.lang); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save the mail settings: %d", resp.StatusCode)
		}
	}
	// A bad address is refused with its reason, and changes nothing.
	resp, doc := alice.postForm(t, "/me/profile/notifications", url.Values{"remind_before": {"60"}, "mail_to": {"not an address"}},
		"HX-Request", "true", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid="mail-error"]`).Text(), "not a mail address") {
		t.Errorf("bad address: %d %q", resp.StatusCode, doc.Find(`[data-testid="mail-error"]`).Text())
	}
	// Nobody else's page shows alice's address.
	if _, doc := bob.get(t, "/me/profile"); strings.Contains(doc.Text(), "alice@example.com") {
		t.Error("bob's profile shows alice's address")
	}

	alice.bid(t, id, 10_000, "")
	bob.bid(t, id, 11_000, "") // alice is outbid: her mail, in English
	var got []*mail.Message
	var rcpts [][]string
	var attempts int
	deadline := time.Now().Add(30 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got, rcpts, attempts = srv.messages()
	}
	if len(got) != 1 {
		t.Fatalf("%d mails after 30 s (%d attempts), want 1", len(got), attempts)
	}
	if attempts != 2 {
		t.Errorf("%d delivery attempts, want 2 (the first refused)", attempts)
	}
	m := got[0]
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	if rcpts[0][0] != "alice@example.com" || !strings.Contains(subject, "Lamp") || !strings.Contains(subject, "outbid") {
		t.Errorf("mail to %v: %q", rcpts[0], subject)
	}
	text := body(t, m)
	if !strings.Contains(text, "You have been outbid. The price is now ₩11,000") || !strings.Contains(text, fmt.Sprintf("/auctions/%d", id)) {
		t.Errorf("body:\n%s", text)
	}
	if m.Header.Get("List-Unsubscribe") == "" {
		t.Error("no List-Unsubscribe header")
	}
	link := unsubLink.FindString(text)
	if link == "" {
		t.Fatalf("no unsubscribe link in:\n%s", text)
	}
	// Nothing more comes for it: the retry sent it once.
	time.Sleep(3 * time.Second)
	if got, _, attempts := srv.messages(); len(got) != 1 || attempts != 2 {
		t.Errorf("after a while: %d mails, %d attempts", len(got), attempts)
	}

	// Bob, outbid by alice, gets his in Korean.
	alice.bid(t, id, 20_000, "")
	deadline = time.Now().Add(20 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got, rcpts, _ = srv.messages()
	}
	if len(got) != 2 || rcpts[1][0] != "bob@example.com" || !strings.Contains(body(t, got[1]), "더 높은 입찰이 들어왔습니다") {
		t.Fatalf("bob's mail: %d mails, %v", len(got), rcpts)
	}

	// The link works without signing in; a forged one does not.
	u, _ := url.Parse(link)
	visitor := a.newClient()
	if resp, doc := visitor.get(t, u.RequestURI(), "Accept-Language", "en"); resp.StatusCode != 200 ||
		!strings.Contains(doc.Find(`[data-testid="flash"]`).Text(), "You will get no more of these mails") {
		t.Fatalf("unsubscribe: %d %q", resp.StatusCode, doc.Find(`[data-testid="flash"]`).Text())
	}
	if n := count(t, a, `SELECT count(*) FROM notify_prefs p JOIN users u ON u.id = p.user_id WHERE u.nick = 'alice' AND NOT p.mail_outbid`); n != 1 {
		t.Errorf("alice's outbid mails are still on")
	}
	if n := count(t, a, `SELECT count(*) FROM notify_prefs p JOIN users u ON u.id = p.user_id WHERE u.nick = 'bob' AND p.mail_outbid`); n != 1 {
		t.Errorf("alice's link turned bob's off")
	}
	forged := strings.Replace(u.RequestURI(), "t=", "t=x", 1)
	if resp, _ := visitor.get(t, forged); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged link: %d", resp.StatusCode)
	}
	// Outbid again, after reading: a new notification, but no mail.
	_, page := alice.get(t, "/me/notifications")
	upto, _ := page.Find(`input[name="upto"]`).Attr("value")
	alice.postForm(t, "/me/notifications/read", url.Values{"upto": {upto}})
	bob.bid(t, id, 30_000, "")
	time.Sleep(4 * time.Second)
	if got, _, _ := srv.messages(); len(got) != 2 {
		t.Errorf("%d mails after alice unsubscribed and was outbid again, want still 2", len(got))
	}
}

func TestWithoutSMTPInDevelopmentMailsAreShownOnTheLetterOpener(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	vals := url.Values{"remind_before": {"60"}, "mail_to": {"alice@example.com"}, "mail_outbid": {"1"}}
	if resp, _ := alice.postForm(t, "/me/profile/notifications", vals, "Accept-Language", "en"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	alice.bid(t, id, 10_000, "")
	bob.bid(t, id, 11_000, "")
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, doc := a.newClient().get(t, "/dev/mail")
		m := doc.Find(`[data-testid="mail"]`)
		if m.Length() == 1 {
			if !strings.Contains(m.Text(), "alice@example.com") || !strings.Contains(m.Text(), "You have been outbid") ||
				!strings.Contains(m.Text(), "/mail/unsubscribe?t=") {
				t.Errorf("the letter opener shows %q", m.Text())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails on /dev/mail after 20 s", m.Length())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := count(t, a, `SELECT count(*) FROM mails WHERE sent_at IS NOT NULL`); n != 1 {
		t.Errorf("%d mails marked shown, want 1", n)
	}
}
