-- Instances cache sessions and signed-in users in memory. Every change to a
-- user row (nickname, balance through the ledger, anything added later) and
-- every removed or changed session tells all instances on the channel
-- gavel_auth, in the changing transaction, so each drops its copy: "u:ID"
-- for any change to the user, and also "n:ID" when the nickname changes
-- (pages that show other people's nicknames keep theirs until then).
CREATE FUNCTION auth_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- The front page is cached per instance: a new listing, or a change that
-- moves an auction between or within the lists (status, end, what the card
-- shows), is announced on gavel_lists. Bids announce themselves on
-- gavel_events already.
CREATE FUNCTION lists_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gavel_lists', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER auctions_listed AFTER INSERT ON auctions
    FOR EACH ROW EXECUTE FUNCTION lists_notify();
CREATE TRIGGER auctions_relisted AFTER UPDATE ON auctions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
        OR OLD.title IS DISTINCT FROM NEW.title OR OLD.image_id IS DISTINCT FROM NEW.image_id
        OR OLD.seller_id IS DISTINCT FROM NEW.seller_id)
    EXECUTE FUNCTION lists_notify();
