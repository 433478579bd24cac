// Package config reads Gavel's configuration from the environment. Every
// setting has a default in code; Load validates them all at start so that a
// bad value stops the process with one line naming the variable.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environments Gavel knows.
const (
	Development = "development"
	Production  = "production"
)

// Provider is one OAuth or OpenID Connect login provider switched on by
// configuration.
type Provider struct {
	Name   string // goth provider name: github, google, kakao, naver, oidc
	Key    string
	Secret string
	// Issuer is the OpenID Connect issuer URL (provider "oidc" only).
	Issuer string
}

// Config is every setting Gavel reads.
type Config struct {
	Addr        string // ADDR: listen address
	DatabaseURL string // DATABASE_URL: empty means a private Postgres under DataDir
	DataDir     string // DATA_DIR: private Postgres data and other local state
	BaseURL     string // BASE_URL: public origin, e.g. https://gavel.example
	Env         string // APP_ENV: development or production

	Providers []Provider // one per configured *_KEY/*_SECRET pair
	DevLogin  bool       // DEV_LOGIN: the nickname-only "dev" provider

	StartingBalance int64 // STARTING_BALANCE: won credited at first login
	Deposits        bool  // DEPOSITS: the demo deposit form is on
	DepositMin      int64 // DEPOSIT_MIN
	DepositMax      int64 // DEPOSIT_MAX: largest single deposit
	DepositDailyCap int64 // DEPOSIT_DAILY_CAP: most one user may deposit per day

	// TrustedProxies are the load balancers (IPs or CIDRs) whose X-Real-IP
	// header names the client (TRUSTED_PROXIES, comma-separated). Empty:
	// the peer address is the client.
	TrustedProxies []string

	// ShortAuction adds a duration choice to the sell form, for tests and
	// demos (SHORT_AUCTION, e.g. 30s). Zero means off; development only.
	ShortAuction time.Duration

	// SoftCloseWindow and SoftCloseCap are the anti-sniping rule
	// (SOFT_CLOSE_WINDOW, SOFT_CLOSE_CAP): a bid that moves the price less
	// than the window before the end moves the end to the window after it,
	// never more than the cap past the scheduled end. A zero window turns
	// it off; production needs at least 30s.
	SoftCloseWindow time.Duration
	SoftCloseCap    time.Duration

	// Rate limits, per instance and per client, over RateWindow
	// (RATE_WINDOW, default a minute): sign-in attempts per address
	// (RATE_LOGIN, 10), bids per user (RATE_BID, 60), deposits per user
	// and per address (RATE_DEPOSIT_USER, 5; RATE_DEPOSIT_IP, 20); and
	// the open live streams of each kind per address (STREAMS_PER_IP, 50).
	RateWindow      time.Duration
	RateLogin       int
	RateBid         int
	RateDepositUser int
	RateDepositIP   int
	StreamsPerIP    int
	// RateListing is the new listings and relistings per user per hour
	// (RATE_LISTING, 20): each decodes a photo. Listing edits have a
	// budget of their own of the same size. ConnsPerIP caps the open connections of
	// one peer (CONNS_PER_IP, 200; not applied behind TRUSTED_PROXIES).
	RateListing int
	ConnsPerIP  int

	// Admins are the operators (ADMINS), each as provider:provider-user-id
	// (e.g. github:1234567,dev:alice): they get /admin.
	Admins []string

	// LogFormat (LOG_FORMAT: text or json) and LogLevel (LOG_LEVEL: debug,
	// info, warn or error) shape the log on standard error.
	LogFormat string
	LogLevel  slog.Level

	// MetricsAddr serves Prometheus metrics at /metrics (METRICS_ADDR,
	// host:port); empty: off.
	MetricsAddr string
	// DebugAddr serves net/http/pprof (DEBUG_ADDR, host:port; a missing
	// host means 127.0.0.1); empty: off.
	DebugAddr string

	// SMTPURL is where notification mail goes (SMTP_URL:
	// smtp://user:password@host:port with STARTTLS when offered, or
	// smtps:// for TLS from the start); empty: no mail (in development
	// they are kept for /dev/mail instead).
	SMTPURL string
	// MailFrom is the mails' From address (MAIL_FROM), required with
	// SMTP_URL.
	MailFrom string
}

// Secure reports whether cookies must carry the Secure flag.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// IsAdmin reports whether the account (provider, id) is an operator's.
func (c *Config) IsAdmin(provider, id string) bool {
	return slices.Contains(c.Admins, provider+":"+id)
}

// IsProduction reports whether APP_ENV is production.
func (c *Config) IsProduction() bool { return c.Env == Production }

// providerVars lists the providers that take a key pair, with the prefix of
// their variables (GITHUB_KEY, GITHUB_SECRET, …).
var providerVars = []struct{ name, prefix string }{
	{"github", "GITHUB"},
	{"google", "GOOGLE"},
	{"kakao", "KAKAO"},
	{"naver", "NAVER"},
	{"oidc", "OIDC"},
}

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests) and validates it.
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		Addr:            r.str("ADDR", "127.0.0.1:8080"),
		DatabaseURL:     r.str("DATABASE_URL", ""),
		DataDir:         r.str("DATA_DIR", ".data"),
		BaseURL:         strings.TrimRight(r.str("BASE_URL", ""), "/"),
		Env:             r.str("APP_ENV", Development),
		StartingBalance: r.int("STARTING_BALANCE", 1_000_000, 0, 1_000_000_000_000),
		Deposits:        r.bool("DEPOSITS", true),
		DepositMin:      r.int("DEPOSIT_MIN", 1_000, 1, 1_000_000_000_000),
		DepositMax:      r.int("DEPOSIT_MAX", 10_000_000, 1, 1_000_000_000_000),
		DepositDailyCap: r.int("DEPOSIT_DAILY_CAP", 50_000_000, 1, 1_000_000_000_000),
		ShortAuction:    r.duration("SHORT_AUCTION", 0),
		SoftCloseWindow: r.duration("SOFT_CLOSE_WINDOW", 2*time.Minute),
		SoftCloseCap:    r.duration("SOFT_CLOSE_CAP", time.Hour),
		LogFormat:       r.str("LOG_FORMAT", "text"),
		Admins:          r.list("ADMINS"),
		RateWindow:      r.duration("RATE_WINDOW", time.Minute),
		RateLogin:       int(r.int("RATE_LOGIN", 10, 1, 1_000_000)),
		RateBid:         int(r.int("RATE_BID", 60, 1, 1_000_000)),
		RateDepositUser: int(r.int("RATE_DEPOSIT_USER", 5, 1, 1_000_000)),
		RateDepositIP:   int(r.int("RATE_DEPOSIT_IP", 20, 1, 1_000_000)),
		StreamsPerIP:    int(r.int("STREAMS_PER_IP", 50, 1, 1_000_000)),
		RateListing:     int(r.int("RATE_LISTING", 20, 1, 1_000_000)),
		ConnsPerIP:      int(r.int("CONNS_PER_IP", 200, 1, 1_000_000)),
		TrustedProxies:  r.list("TRUSTED_PROXIES"),
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.str("LOG_LEVEL", "info"))); err != nil {
		r.fail("LOG_LEVEL", "%q must be debug, info, warn or error", r.str("LOG_LEVEL", ""))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		r.fail("LOG_FORMAT", "%q must be text or json", c.LogFormat)
	}
	for _, p := range providerVars {
		key, secret := r.str(p.prefix+"_KEY", ""), r.str(p.prefix+"_SECRET", "")
		if key == "" && secret == "" {
			continue
		}
		if key == "" || secret == "" {
			r.fail(p.prefix+"_KEY", "%s_KEY and %s_SECRET must be set together", p.prefix, p.prefix)
			continue
		}
		prov := Provider{Name: p.name, Key: key, Secret: secret}
		if p.name == "oidc" {
			prov.Issuer = strings.TrimRight(r.str("OIDC_ISSUER", ""), "/")
			if _, err := parseHTTPURL(prov.Issuer); err != nil {
				r.fail("OIDC_ISSUER", "must be the issuer's http(s) URL when OIDC_KEY is set")
			}
		}
		c.Providers = append(c.Providers, prov)
	}
	devLoginSet := r.str("DEV_LOGIN", "") != ""
	c.DevLogin = r.bool("DEV_LOGIN", c.Env == Development)

	c.MetricsAddr = r.str("METRICS_ADDR", "")
	c.DebugAddr = r.str("DEBUG_ADDR", "")
	if strings.HasPrefix(c.DebugAddr, ":") {
		c.DebugAddr = "127.0.0.1" + c.DebugAddr
	}
	for _, v := range []struct{ name, addr string }{{"METRICS_ADDR", c.MetricsAddr}, {"DEBUG_ADDR", c.DebugAddr}} {
		if _, _, err := net.SplitHostPort(v.addr); v.addr != "" && err != nil {
			r.fail(v.name, "%q is not host:port", v.addr)
		}
	}

	c.SMTPURL = r.str("SMTP_URL", "")
	c.MailFrom = r.str("MAIL_FROM", "")
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			r.fail("SMTP_URL", "must be an smtp:// or smtps:// URL with a host")
		} else if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				r.fail("SMTP_URL", "port %q is not a port number", p)
			}
		}
		if c.MailFrom == "" {
			r.fail("MAIL_FROM", "required with SMTP_URL")
		}
	}
	if c.MailFrom != "" {
		if a, err := mail.ParseAddress(c.MailFrom); err != nil || !strings.Contains(a.Address, "@") {
			r.fail("MAIL_FROM", "%q is not a mail address", c.MailFrom)
		}
	}

	if r.err != nil {
		return nil, r.err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	// The dev login signs anyone in as anyone: on by default only where
	// nobody else can reach it. A development config with a public or
	// https origin is most likely a deployment that forgot APP_ENV.
	if c.Env == Development && !devLoginSet && !IsLoopbackOrigin(c.BaseURL) {
		return nil, fmt.Errorf("DEV_LOGIN: BASE_URL %s is not a local http address, so the nickname-only dev login is not turned on by itself: "+
			"set APP_ENV=production for a deployment, or DEV_LOGIN=true (or false) to choose explicitly", c.BaseURL)
	}
	return c, nil
}

// IsLoopbackOrigin reports whether origin is plain http on a loopback host
// (localhost, 127.0.0.0/8, ::1): reachable only from this machine.
func IsLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validate() error {
	switch c.Env {
	case Development, Production:
	default:
		return fmt.Errorf("APP_ENV: %q is neither %q nor %q", c.Env, Development, Production)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("ADDR: %q is not host:port", c.Addr)
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("DATABASE_URL: must be a postgres:// URL")
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("DATA_DIR: must not be empty")
	}
	if c.BaseURL == "" {
		if c.IsProduction() {
			return fmt.Errorf("BASE_URL: required when APP_ENV=production")
		}
		c.BaseURL = "http://" + c.Addr
	}
	u, err := parseHTTPURL(c.BaseURL)
	if err != nil || u.Path != "" || u.RawQuery != "" {
		return fmt.Errorf("BASE_URL: %q must be an origin like https://gavel.example", c.BaseURL)
	}
	if c.DepositMin > c.DepositMax {
		return fmt.Errorf("DEPOSIT_MIN: %d is above DEPOSIT_MAX %d", c.DepositMin, c.DepositMax)
	}
	if c.DepositMax > c.DepositDailyCap {
		return fmt.Errorf("DEPOSIT_MAX: %d is above DEPOSIT_DAILY_CAP %d", c.DepositMax, c.DepositDailyCap)
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range", p)
			}
		}
	}
	if c.ShortAuction < 0 {
		return fmt.Errorf("SHORT_AUCTION: must not be negative")
	}
	for _, a := range c.Admins {
		if p, id, ok := strings.Cut(a, ":"); !ok || p == "" || id == "" {
			return fmt.Errorf("ADMINS: %q must be provider:provider-user-id", a)
		}
	}
	if c.RateWindow < time.Second {
		return fmt.Errorf("RATE_WINDOW: at least 1s")
	}
	if c.SoftCloseWindow < 0 || c.SoftCloseCap < 0 {
		return fmt.Errorf("SOFT_CLOSE_WINDOW, SOFT_CLOSE_CAP: must not be negative")
	}
	if c.SoftCloseWindow > 0 && c.SoftCloseCap < c.SoftCloseWindow {
		return fmt.Errorf("SOFT_CLOSE_CAP: must be at least SOFT_CLOSE_WINDOW (%s)", c.SoftCloseWindow)
	}
	if c.IsProduction() {
		if c.DevLogin {
			return fmt.Errorf("DEV_LOGIN: the dev login cannot be on when APP_ENV=production")
		}
		if c.ShortAuction != 0 {
			return fmt.Errorf("SHORT_AUCTION: only for development")
		}
		if c.SoftCloseWindow > 0 && c.SoftCloseWindow < 30*time.Second {
			return fmt.Errorf("SOFT_CLOSE_WINDOW: at least 30s in production (a few seconds are for development)")
		}
		if len(c.Providers) == 0 {
			return fmt.Errorf("APP_ENV: production needs at least one login provider (GITHUB_KEY, GOOGLE_KEY, KAKAO_KEY, NAVER_KEY or OIDC_KEY)")
		}
		for _, p := range c.Providers {
			// The discovery document and the key set that vouch for every
			// id_token must not travel in the clear.
			if p.Name == "oidc" && !strings.HasPrefix(p.Issuer, "https://") {
				return fmt.Errorf("OIDC_ISSUER: %q must be an https URL when APP_ENV=production", p.Issuer)
			}
		}
	}
	return nil
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("not an http(s) URL")
	}
	return u, nil
}

// reader collects the first parse error so Load reports one clear line.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) int(name string, def, lo, hi int64) int64 {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
	if err != nil || n < lo || n > hi {
		r.fail(name, "%q must be a whole number from %d to %d", v, lo, hi)
		return def
	}
	return n
}

func (r *reader) bool(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "%q must be true or false", v)
		return def
	}
	return b
}

func (r *reader) list(name string) []string {
	var out []string
	for _, part := range strings.Split(r.str(name, ""), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "%q must be a duration like 30s or 5m", v)
		return def
	}
	return d
}
