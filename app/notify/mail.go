package notify

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	gomail "github.com/wneessen/go-mail"

	"gavel/app/i18n"
)

// Mail kinds: what a user may turn on and off (migration 0033's
// mail_kind maps notification kinds to them).
const (
	MailOutbid = "outbid"
	MailWon    = "won"
	MailSold   = "sold"
	MailEnding = "ending"
)

// footerKeys are the catalog keys of each mail kind's "why you get this".
var footerKeys = map[string]string{
	MailOutbid: "mail.footer.outbid",
	MailWon:    "mail.footer.won",
	MailSold:   "mail.footer.sold",
	MailEnding: "mail.footer.ending",
}

// MailKinds lists the mail kinds in the order the profile shows them.
var MailKinds = []string{MailOutbid, MailWon, MailSold, MailEnding}

// Mailer renders and sends notification mail: through SMTP when
// configured, or, in development without it, into the mails table only,
// for /dev/mail to show (a letter opener).
type Mailer struct {
	smtp    *url.URL // nil: kept for /dev/mail, not sent
	from    string
	baseURL string
	key     []byte // signs unsubscribe links
	timeout time.Duration
}

// NewMailer returns the mailer of this configuration: smtpURL
// (smtp:// or smtps://, validated by config) and from; smtpURL "" keeps
// mails for /dev/mail instead (call it only in development). key signs the
// unsubscribe links; baseURL is the site's origin, for links in mails.
func NewMailer(smtpURL, from, baseURL string, key []byte) (*Mailer, error) {
	m := &Mailer{from: cmp.Or(from, "Gavel <gavel@localhost>"), baseURL: strings.TrimRight(baseURL, "/"), key: key, timeout: 20 * time.Second}
	if smtpURL != "" {
		u, err := url.Parse(smtpURL)
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
		m.smtp = u
	}
	return m, nil
}

// Sends reports whether mail goes out over SMTP (false: /dev/mail only).
func (m *Mailer) Sends() bool { return m != nil && m.smtp != nil }

// send delivers one mail over SMTP. The Message-ID is the notification's,
// so a receiver can tell a retry from a new mail.
func (m *Mailer) send(ctx context.Context, id int64, to, subject, body, unsub string) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	msg.Subject(subject)
	msg.SetDate()
	host := "gavel.localhost"
	if u, err := url.Parse(m.baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	msg.SetMessageIDWithValue("notification-" + strconv.FormatInt(id, 10) + "@" + host)
	msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+unsub+">")
	msg.SetBodyString(gomail.TypeTextPlain, body)

	port := 25
	if p := m.smtp.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	} else if m.smtp.Scheme == "smtps" {
		port = 465
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(m.timeout)}
	if m.smtp.Scheme == "smtps" {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.smtp.User != nil {
		pw, _ := m.smtp.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(m.smtp.User.Username()), gomail.WithPassword(pw))
	}
	c, err := gomail.NewClient(m.smtp.Hostname(), opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// UnsubscribeToken signs (user, kind) for a link that turns that mail
// kind off without signing in.
func (m *Mailer) UnsubscribeToken(user int64, kind string) string {
	return UnsubscribeToken(m.key, user, kind)
}

// UnsubscribeToken signs (user, kind) with key.
func UnsubscribeToken(key []byte, user int64, kind string) string {
	payload := strconv.FormatInt(user, 10) + ":" + kind
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(unsubMAC(key, payload))
}

func unsubMAC(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("gavel-unsubscribe\x00"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// ParseUnsubscribe checks a token of UnsubscribeToken and returns what it
// names.
func ParseUnsubscribe(key []byte, token string) (user int64, kind string, ok bool) {
	p, sig, found := strings.Cut(token, ".")
	if !found {
		return 0, "", false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, unsubMAC(key, string(payload))) {
		return 0, "", false
	}
	u, k, found := strings.Cut(string(payload), ":")
	user, err := strconv.ParseInt(u, 10, 64)
	if !found || err != nil || user <= 0 || !validMailKind(k) {
		return 0, "", false
	}
	return user, k, true
}

func validMailKind(k string) bool {
	for _, x := range MailKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Prefs are what a user has chosen to be told, and where.
type Prefs struct {
	Lead   int    // reminder lead in minutes (0: off)
	MailTo string // "" means ProviderEmail
	Mail   map[string]bool
	Lang   i18n.Lang
	// ProviderEmail is the address the login provider gave, the default.
	ProviderEmail string
}

// GetPrefs returns user's choices (the defaults when they made none).
func GetPrefs(ctx context.Context, db bun.IDB, user int64) (Prefs, error) {
	p := Prefs{Lead: DefaultLead, Mail: map[string]bool{}, Lang: i18n.Korean}
	var lang string
	var o, w, s, e bool
	err := db.QueryRowContext(ctx, `SELECT u.email, COALESCE(p.remind_before, ?), COALESCE(p.mail_to, ''),
			COALESCE(p.mail_outbid, true), COALESCE(p.mail_won, true), COALESCE(p.mail_sold, true),
			COALESCE(p.mail_ending, true), COALESCE(p.lang, 'ko')
		FROM users u LEFT JOIN notify_prefs p ON p.user_id = u.id WHERE u.id = ?`, DefaultLead, user).
		Scan(&p.ProviderEmail, &p.Lead, &p.MailTo, &o, &w, &s, &e, &lang)
	if err != nil {
		return p, fmt.Errorf("prefs of %d: %w", user, err)
	}
	p.Mail[MailOutbid], p.Mail[MailWon], p.Mail[MailSold], p.Mail[MailEnding] = o, w, s, e
	p.Lang, _ = i18n.Parse(lang)
	return p, nil
}

// ErrBadAddress is SetMail's answer to an address that is not one.
var ErrBadAddress = errors.New("notify: not a mail address")

// ValidAddress reports whether to is a bare mail address.
func ValidAddress(to string) bool {
	a, err := mail.ParseAddress(to)
	return err == nil && a.Name == "" && a.Address == to && len(to) <= 254 && strings.Contains(to, "@")
}

// SetMail sets where user's mail goes ("": the provider's address) and
// which kinds they want.
func SetMail(ctx context.Context, db bun.IDB, user int64, to string, kinds map[string]bool) error {
	to = strings.TrimSpace(to)
	if to != "" && !ValidAddress(to) {
		return ErrBadAddress
	}
	_, err := db.ExecContext(ctx, `INSERT INTO notify_prefs (user_id, mail_to, mail_outbid, mail_won, mail_sold, mail_ending)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET mail_to = EXCLUDED.mail_to,
			mail_outbid = EXCLUDED.mail_outbid, mail_won = EXCLUDED.mail_won, mail_sold = EXCLUDED.mail_sold,
			mail_ending = EXCLUDED.mail_ending`,
		user, to, kinds[MailOutbid], kinds[MailWon], kinds[MailSold], kinds[MailEnding])
	if err != nil {
		return fmt.Errorf("set mail of %d: %w", user, err)
	}
	return nil
}

// SetLang records the language of user's mails.
func SetLang(ctx context.Context, db bun.IDB, user int64, lang i18n.Lang) error {
	_, err := db.ExecContext(ctx, `INSERT INTO notify_prefs (user_id, lang) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET lang = EXCLUDED.lang WHERE notify_prefs.lang <> EXCLUDED.lang`, user, string(lang))
	if err != nil {
		return fmt.Errorf("set language of %d: %w", user, err)
	}
	return nil
}

// Unsubscribe turns mail kind off for user (an unsubscribe link).
func Unsubscribe(ctx context.Context, db bun.IDB, user int64, kind string) error {
	if !validMailKind(kind) {
		return errors.New("notify: no such mail kind")
	}
	_, err := db.ExecContext(ctx, `INSERT INTO notify_prefs (user_id, mail_`+kind+`) VALUES (?, false)
		ON CONFLICT (user_id) DO UPDATE SET mail_`+kind+` = false`, user)
	if err != nil {
		return fmt.Errorf("unsubscribe %d from %s: %w", user, kind, err)
	}
	return nil
}

// Sent is one mail as kept in the mails table (/dev/mail shows them).
type Sent struct {
	NotificationID int64      `bun:"notification_id"`
	To             string     `bun:"to_addr"`
	Subject        string     `bun:"subject"`
	Body           string     `bun:"body"`
	CreatedAt      time.Time  `bun:"created_at"`
	SentAt         *time.Time `bun:"sent_at"`
}

// Latest returns the latest n mails, newest first.
func Latest(ctx context.Context, db bun.IDB, n int) ([]Sent, error) {
	var list []Sent
	err := db.NewRaw(`SELECT notification_id, to_addr, subject, body, created_at, sent_at FROM mails
		ORDER BY created_at DESC, notification_id DESC LIMIT ?`, n).Scan(ctx, &list)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("latest mails: %w", err)
	}
	return list, nil
}

// MailArgs is the job that mails one notification. River keeps one per
// notification; the mails row records that it was sent, so a retry after
// a failure sends it, and a run after a success sends nothing.
type MailArgs struct {
	NotificationID int64 `json:"notification_id"`
}

// Kind is River's name of the job.
func (MailArgs) Kind() string { return "mail" }

// InsertOpts makes the job unique per notification.
func (MailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type mailWorker struct {
	river.WorkerDefaults[MailArgs]
	s *Service
}

// Timeout bounds one attempt: an SMTP server that hangs is retried later.
func (w *mailWorker) Timeout(*river.Job[MailArgs]) time.Duration { return time.Minute }

// Work renders the mail (once: the first attempt stores it) and sends it
// unless a previous attempt did. A failure is retried by River with
// backoff.
func (w *mailWorker) Work(ctx context.Context, job *river.Job[MailArgs]) error {
	s, id := w.s, job.Args.NotificationID
	var sent Sent
	err := s.db.NewRaw(`SELECT notification_id, to_addr, subject, body, created_at, sent_at FROM mails
		WHERE notification_id = ?`, id).Scan(ctx, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		var ok bool
		if sent, ok, err = s.renderMail(ctx, id); err != nil || !ok {
			return err
		}
	} else if err != nil {
		return err
	}
	if sent.SentAt != nil {
		return nil // never twice
	}
	if s.opt.Mail.Sends() {
		var user int64
		var kind string
		if err := s.db.QueryRowContext(ctx, `SELECT user_id, mail_kind(kind) FROM notifications WHERE id = ?`, id).Scan(&user, &kind); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil // purged meanwhile
			}
			return err
		}
		unsub := s.opt.Mail.baseURL + "/mail/unsubscribe?t=" + s.opt.Mail.UnsubscribeToken(user, kind)
		if err := s.opt.Mail.send(ctx, id, sent.To, sent.Subject, sent.Body, unsub); err != nil {
			return fmt.Errorf("mail notification %d: %w", id, err)
		}
	}
	_, err = s.db.ExecContext(ctx, `UPDATE mails SET sent_at = now() WHERE notification_id = ? AND sent_at IS NULL`, id)
	return err
}

// renderMail writes notification id's mail, in its user's language, to
// the mails table. ok is false when there is nothing to send any more
// (the user turned that mail off, or has no address).
func (s *Service) renderMail(ctx context.Context, id int64) (Sent, bool, error) {
	var list []Notification
	if err := s.db.NewRaw(`SELECT `+noteCols+noteFrom+`WHERE n.id = ?`, id).Scan(ctx, &list); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Sent{}, false, err
	}
	if len(list) == 0 {
		return Sent{}, false, nil
	}
	n := &list[0]
	prefs, err := GetPrefs(ctx, s.db, n.UserID)
	if err != nil {
		return Sent{}, false, err
	}
	var kind string
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(mail_kind(?), '')`, n.Kind).Scan(&kind); err != nil {
		return Sent{}, false, err
	}
	to := cmp.Or(prefs.MailTo, prefs.ProviderEmail)
	if kind == "" || !prefs.Mail[kind] || to == "" {
		return Sent{}, false, nil
	}
	p := i18n.For(prefs.Lang)
	m := s.opt.Mail
	room := m.baseURL + "/auctions/" + strconv.FormatInt(n.AuctionID, 10)
	unsub := m.baseURL + "/mail/unsubscribe?t=" + m.UnsubscribeToken(n.UserID, kind)
	body := strings.Join([]string{
		n.Title,
		Text(p, n),
		"",
		room,
		"",
		"-- ",
		p.T(footerKeys[kind]),
		p.T("mail.unsubscribe", unsub),
		p.T("mail.settings", m.baseURL+"/me/profile"),
	}, "\r\n") + "\r\n"
	sent := Sent{NotificationID: id, To: to, Subject: p.T("mail.subject", n.Title, Text(p, n)), Body: body}
	_, err = s.db.ExecContext(ctx, `INSERT INTO mails (notification_id, user_id, to_addr, subject, body)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, n.UserID, sent.To, sent.Subject, sent.Body)
	return sent, err == nil, err
}

func (s *Service) addMailWorker(w *river.Workers) {
	if s.opt.Mail != nil {
		river.AddWorker(w, &mailWorker{s: s})
	}
	river.AddWorker(w, &outboxWorker{s: s})
}

// OutboxArgs is the periodic job that moves the mail outbox (filled by
// the notification trigger in the cause's transaction) into mail jobs, in
// one transaction: each notification's mail is queued exactly once.
type OutboxArgs struct{}

// Kind is River's name of the job.
func (OutboxArgs) Kind() string { return "mail_outbox" }

type outboxWorker struct {
	river.WorkerDefaults[OutboxArgs]
	s *Service
}

// Work queues the waiting mails (or, with mail off, forgets them).
func (w *outboxWorker) Work(ctx context.Context, job *river.Job[OutboxArgs]) error {
	s := w.s
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM mail_outbox WHERE notification_id IN (
			SELECT notification_id FROM mail_outbox ORDER BY created_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
			RETURNING notification_id`)
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			params = append(params, river.InsertManyParams{Args: MailArgs{NotificationID: id}})
		}
		rows.Close()
		if err := rows.Err(); err != nil || s.opt.Mail == nil || len(params) == 0 {
			return err
		}
		_, err = s.client.InsertManyTx(ctx, tx.Tx, params)
		return err
	})
}
