package config

import (
	"strings"
	"testing"
)

func TestSMTPURLAndMailFromAreValidated(t *testing.T) {
	ok, err := Load(env(map[string]string{"SMTP_URL": "smtp://user:pw@mail.example:587", "MAIL_FROM": "Gavel <noreply@gavel.example>"}))
	if err != nil || ok.SMTPURL != "smtp://user:pw@mail.example:587" || ok.MailFrom != "Gavel <noreply@gavel.example>" {
		t.Fatalf("a good mail setup: %v %+v", err, ok)
	}
	if c, err := Load(env(nil)); err != nil || c.SMTPURL != "" {
		t.Errorf("no mail by default: %v %q", err, c.SMTPURL)
	}
	for _, bad := range []map[string]string{
		{"SMTP_URL": "http://mail.example", "MAIL_FROM": "a@b.example"},
		{"SMTP_URL": "smtp://", "MAIL_FROM": "a@b.example"},
		{"SMTP_URL": "smtp://mail.example:99999", "MAIL_FROM": "a@b.example"},
		{"SMTP_URL": "smtp://mail.example"},
		{"SMTP_URL": "smtps://mail.example", "MAIL_FROM": "not an address"},
	} {
		_, err := Load(env(bad))
		if err == nil {
			t.Errorf("%v: accepted", bad)
			continue
		}
		if !strings.HasPrefix(err.Error(), "SMTP_URL:") && !strings.HasPrefix(err.Error(), "MAIL_FROM:") {
			t.Errorf("%v: %v does not name the variable", bad, err)
		}
	}
}
