package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaultsAreADevelopmentSetup(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != ".data" || c.Env != Development || c.DatabaseURL != "" {
		t.Errorf("defaults: %+v", c)
	}
	if c.BaseURL != "http://127.0.0.1:8080" {
		t.Errorf("BaseURL defaults to the listen address, got %q", c.BaseURL)
	}
	if !c.DevLogin {
		t.Error("the dev login is on by default in development")
	}
	if c.Secure() {
		t.Error("http base URL must not ask for Secure cookies")
	}
}

func TestLoadReadsProvidersInPairs(t *testing.T) {
	c, err := Load(env(map[string]string{
		"GITHUB_KEY": "k", "GITHUB_SECRET": "s",
		"OIDC_KEY": "ok", "OIDC_SECRET": "os", "OIDC_ISSUER": "http://127.0.0.1:9999/oidc/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Providers) != 2 || c.Providers[0].Name != "github" || c.Providers[1].Issuer != "http://127.0.0.1:9999/oidc" {
		t.Errorf("providers: %+v", c.Providers)
	}
}

func TestLoadProductionNeedsBaseURLAndProviderAndNoDevLogin(t *testing.T) {
	ok := map[string]string{
		"APP_ENV": "production", "BASE_URL": "https://gavel.example",
		"KAKAO_KEY": "k", "KAKAO_SECRET": "s",
	}
	c, err := Load(env(ok))
	if err != nil {
		t.Fatalf("valid production config refused: %v", err)
	}
	if c.DevLogin || !c.Secure() {
		t.Errorf("production: dev login %v, secure %v", c.DevLogin, c.Secure())
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"dev login on":     {with("DEV_LOGIN", "true"), "DEV_LOGIN:"},
		"no base url":      {with("BASE_URL", ""), "BASE_URL:"},
		"no provider":      {with("KAKAO_KEY", ""), "KAKAO_KEY:"},
		"short auctions":   {with("SHORT_AUCTION", "10s"), "SHORT_AUCTION:"},
		"no provider pair": {map[string]string{"APP_ENV": "production", "BASE_URL": "https://g.example"}, "APP_ENV:"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error starting with %q", err, tc.want)
			}
		})
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	for name, want := range map[string]map[string]string{
		"ADDR:":              {"ADDR": "8080"},
		"APP_ENV:":           {"APP_ENV": "staging"},
		"DATABASE_URL:":      {"DATABASE_URL": "mysql://x"},
		"BASE_URL:":          {"BASE_URL": "gavel.example/path"},
		"STARTING_BALANCE:":  {"STARTING_BALANCE": "lots"},
		"DEPOSITS:":          {"DEPOSITS": "maybe"},
		"DEPOSIT_MIN:":       {"DEPOSIT_MIN": "5000000000", "DEPOSIT_MAX": "1000"},
		"SHORT_AUCTION:":     {"SHORT_AUCTION": "soon"},
		"OIDC_ISSUER:":       {"OIDC_KEY": "k", "OIDC_SECRET": "s"},
		"GOOGLE_KEY:":        {"GOOGLE_SECRET": "s"},
		"DEPOSIT_DAILY_CAP:": {"DEPOSIT_DAILY_CAP": "-1"},
		"TRUSTED_PROXIES:":   {"TRUSTED_PROXIES": "10.0.0.1, lb.internal"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(want))
			if err == nil || !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("got %v, want an error starting with %q", err, name)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestLoadShortAuctionInDevelopment(t *testing.T) {
	c, err := Load(env(map[string]string{"SHORT_AUCTION": "15s", "STARTING_BALANCE": "5_000_000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ShortAuction != 15*time.Second || c.StartingBalance != 5_000_000 {
		t.Errorf("got %v, %d", c.ShortAuction, c.StartingBalance)
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1] != "192.168.0.0/16" {
		t.Errorf("TrustedProxies = %q", c.TrustedProxies)
	}
}

func TestDevLoginIsOnByDefaultOnlyOnALoopbackBaseURL(t *testing.T) {
	for name, tc := range map[string]struct {
		env     map[string]string
		devOn   bool
		refused bool
	}{
		"defaults (127.0.0.1)":   {nil, true, false},
		"localhost":              {map[string]string{"BASE_URL": "http://localhost:8080"}, true, false},
		"ipv6 loopback":          {map[string]string{"BASE_URL": "http://[::1]:8080"}, true, false},
		"listening everywhere":   {map[string]string{"ADDR": "0.0.0.0:8080"}, false, true},
		"public https":           {map[string]string{"BASE_URL": "https://gavel.example", "GITHUB_KEY": "k", "GITHUB_SECRET": "s"}, false, true},
		"public http":            {map[string]string{"BASE_URL": "http://203.0.113.7:8080"}, false, true},
		"https localhost":        {map[string]string{"BASE_URL": "https://localhost:8443"}, false, true},
		"explicit development":   {map[string]string{"APP_ENV": "development", "BASE_URL": "https://gavel.example"}, false, true},
		"public, explicitly on":  {map[string]string{"BASE_URL": "https://staging.example", "DEV_LOGIN": "1"}, true, false},
		"public, explicitly off": {map[string]string{"BASE_URL": "https://gavel.example", "DEV_LOGIN": "false"}, false, false},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if tc.refused {
				if err == nil {
					t.Fatalf("loaded with the dev login %v; want a refusal", c.DevLogin)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "DEV_LOGIN: ") || strings.Contains(msg, "\n") || !strings.Contains(msg, "APP_ENV=production") {
					t.Errorf("want one clear line naming DEV_LOGIN and APP_ENV, got %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DevLogin != tc.devOn {
				t.Errorf("dev login %v, want %v", c.DevLogin, tc.devOn)
			}
		})
	}
}

func TestProductionNeedsAnHTTPSOIDCIssuer(t *testing.T) {
	prod := func(issuer string) map[string]string {
		return map[string]string{"APP_ENV": "production", "BASE_URL": "https://gavel.example",
			"OIDC_KEY": "k", "OIDC_SECRET": "s", "OIDC_ISSUER": issuer}
	}
	if _, err := Load(env(prod("http://idp.example"))); err == nil || !strings.HasPrefix(err.Error(), "OIDC_ISSUER: ") {
		t.Errorf("an http issuer in production: %v, want an OIDC_ISSUER error", err)
	}
	if _, err := Load(env(prod("https://idp.example"))); err != nil {
		t.Errorf("an https issuer in production: %v", err)
	}
	// Development keeps a local http issuer (a test provider).
	if _, err := Load(env(map[string]string{"OIDC_KEY": "k", "OIDC_SECRET": "s", "OIDC_ISSUER": "http://127.0.0.1:9999"})); err != nil {
		t.Errorf("an http issuer in development: %v", err)
	}
}

func TestLogFormatAndLevelAreValidated(t *testing.T) {
	load := func(m map[string]string) (*Config, error) { return Load(env(m)) }
	c, err := load(nil)
	if err != nil || c.LogFormat != "text" || c.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = load(map[string]string{"LOG_FORMAT": "json", "LOG_LEVEL": "debug"})
	if err != nil || c.LogFormat != "json" || c.LogLevel != slog.LevelDebug {
		t.Errorf("json, debug: %v %v, %v", c.LogFormat, c.LogLevel, err)
	}
	for _, env := range []map[string]string{{"LOG_FORMAT": "xml"}, {"LOG_LEVEL": "loud"}} {
		if _, err := load(env); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}
