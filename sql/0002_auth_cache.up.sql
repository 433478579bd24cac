-- Instances cache sessions and signed-in users in memory. Every change to a
-- user row (nickname, balance through the ledger, anything added later) and
-- every removed or changed session tells all instances on the channel
-- gavel_auth, in the changing transaction, so each drops its copy.
CREATE FUNCTION auth_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_auth', 'u:' || OLD.id);
    ELSE
        PERFORM pg_notify('gavel_auth', 'u:' || NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_notify AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION auth_notify_user();

-- Started sign-ins (login:…) are never cached, so they need no notice.
CREATE FUNCTION auth_notify_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.key NOT LIKE 'login:%' THEN
        PERFORM pg_notify('gavel_auth', 's:' || OLD.key);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_notify AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION auth_notify_session();

-- Secrets shared by every instance (the CSRF token key), made once.
CREATE TABLE server_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL CHECK (length(value) >= 32)
);
