CREATE OR REPLACE FUNCTION notification_add(u bigint, a bigint, k text, amt bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE nid bigint;
BEGIN
    IF u IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO notifications (user_id, auction_id, kind, amount) VALUES (u, a, k, COALESCE(amt, 0))
    ON CONFLICT (user_id, auction_id, merge_key) WHERE read_at IS NULL AND merge_key IS NOT NULL
    DO UPDATE SET id = nextval('notifications_id_seq'), kind = EXCLUDED.kind, amount = EXCLUDED.amount,
        created_at = EXCLUDED.created_at
    RETURNING id INTO nid;
    PERFORM pg_notify('gavel_notes', nid || ' ' || u);
END $$;
DROP FUNCTION mail_queue(bigint, bigint, text);
DROP TABLE mails;
DROP TABLE mail_outbox;
DROP FUNCTION mail_kind(text);
ALTER TABLE notify_prefs DROP COLUMN mail_to, DROP COLUMN mail_outbid, DROP COLUMN mail_won,
    DROP COLUMN mail_sold, DROP COLUMN mail_ending, DROP COLUMN lang;
