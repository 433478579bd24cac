-- A user row whose money alone changed (balance through the ledger,
-- committed as maximums lead and are released: every accepted bid moves
-- two) is announced with the new amounts, "m:ID:BALANCE:COMMITTED:SEQ", so
-- that instances patch their cached copy instead of reading the row again.
-- SEQ makes every notice distinct: PostgreSQL delivers only one of a
-- transaction's identical notices, and amounts can come back to an earlier
-- value within one transaction. Any other change is still "u:ID" (and
-- "n:ID" for the nickname), as in migration 0003.
CREATE SEQUENCE auth_notices;

CREATE OR REPLACE FUNCTION auth_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_auth', 'u:' || OLD.id);
        PERFORM pg_notify('gavel_auth', 'n:' || OLD.id);
    ELSIF OLD IS DISTINCT FROM NEW THEN
        IF to_jsonb(OLD) - 'balance' - 'committed' = to_jsonb(NEW) - 'balance' - 'committed' THEN
            PERFORM pg_notify('gavel_auth', 'm:' || NEW.id || ':' || NEW.balance || ':' || NEW.committed
                || ':' || nextval('auth_notices'));
            RETURN NULL;
        END IF;
        PERFORM pg_notify('gavel_auth', 'u:' || NEW.id);
        IF OLD.nick IS DISTINCT FROM NEW.nick THEN
            PERFORM pg_notify('gavel_auth', 'n:' || NEW.id);
        END IF;
    END IF;
    RETURN NULL;
END $$;
