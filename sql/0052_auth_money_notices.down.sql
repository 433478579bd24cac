CREATE OR REPLACE FUNCTION auth_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_auth', 'u:' || OLD.id);
        PERFORM pg_notify('gavel_auth', 'n:' || OLD.id);
    ELSIF OLD IS DISTINCT FROM NEW THEN
        PERFORM pg_notify('gavel_auth', 'u:' || NEW.id);
        IF OLD.nick IS DISTINCT FROM NEW.nick THEN
            PERFORM pg_notify('gavel_auth', 'n:' || NEW.id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

DROP SEQUENCE auth_notices;
