-- Mail (issue 12): who wants which mails, where; a mail outbox the
-- notification trigger fills in the transaction of the cause; and every
-- mail as sent (or, in development without SMTP, as shown by /dev/mail).
ALTER TABLE notify_prefs
    -- '' means the address the login provider gave (users.email).
    ADD COLUMN mail_to     text    NOT NULL DEFAULT '' CHECK (char_length(mail_to) <= 254),
    ADD COLUMN mail_outbid boolean NOT NULL DEFAULT true,
    ADD COLUMN mail_won    boolean NOT NULL DEFAULT true,
    ADD COLUMN mail_sold   boolean NOT NULL DEFAULT true,
    ADD COLUMN mail_ending boolean NOT NULL DEFAULT true,
    -- The language of the user's mails: the one they last chose.
    ADD COLUMN lang        text    NOT NULL DEFAULT 'ko' CHECK (lang IN ('ko', 'en'));

-- The mail kind a notification kind belongs to (NULL: no mail).
CREATE FUNCTION mail_kind(k text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN k IN ('outbid', 'outbid_auto') THEN 'outbid'
                WHEN k = 'won' THEN 'won'
                WHEN k IN ('sold', 'bought_now') THEN 'sold'
                WHEN k = 'ending_soon' THEN 'ending' END
$$;

-- Notifications whose mail is still to be queued: moved into the job
-- queue (one job each) by a periodic job, in one transaction.
CREATE TABLE mail_outbox (
    notification_id bigint      PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Every mail, once rendered: sent_at is set when the SMTP server took it
-- (or, without SMTP in development, when /dev/mail shows it).
CREATE TABLE mails (
    notification_id bigint      PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users (id),
    to_addr         text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX mails_by_time ON mails (created_at DESC);

-- notification_add as in 0030, plus: a new notification (not one merged
-- into an unread one) of a kind the user wants by mail, with an address,
-- goes to the outbox.
CREATE OR REPLACE FUNCTION notification_add(u bigint, a bigint, k text, amt bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    nid bigint;
    fresh boolean;
BEGIN
    IF u IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO notifications (user_id, auction_id, kind, amount) VALUES (u, a, k, COALESCE(amt, 0))
    ON CONFLICT (user_id, auction_id, merge_key) WHERE read_at IS NULL AND merge_key IS NOT NULL
    DO UPDATE SET id = nextval('notifications_id_seq'), kind = EXCLUDED.kind, amount = EXCLUDED.amount,
        created_at = EXCLUDED.created_at
    RETURNING id, xmax = 0 INTO nid, fresh;
    PERFORM pg_notify('gavel_notes', nid || ' ' || u);
    IF fresh THEN
        PERFORM mail_queue(nid, u, k);
    END IF;
END $$;

-- mail_queue puts notification nid in the outbox when user u wants mail
-- of kind k and has an address.
CREATE FUNCTION mail_queue(nid bigint, u bigint, k text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF mail_kind(k) IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO mail_outbox (notification_id)
    SELECT nid FROM users us LEFT JOIN notify_prefs p ON p.user_id = us.id
    WHERE us.id = u AND COALESCE(NULLIF(p.mail_to, ''), us.email) <> ''
      AND CASE mail_kind(k) WHEN 'outbid' THEN COALESCE(p.mail_outbid, true)
                            WHEN 'won' THEN COALESCE(p.mail_won, true)
                            WHEN 'sold' THEN COALESCE(p.mail_sold, true)
                            WHEN 'ending' THEN COALESCE(p.mail_ending, true) END
    ON CONFLICT DO NOTHING;
END $$;
