-- Instances keep each signed-in user's bell and watch list in memory. A
-- notification read, or a watch added or removed, tells every instance on
-- gavel_mine (payload: the user's id), in the changing transaction, so each
-- drops its copy. New notifications announce themselves on gavel_notes.
-- Postgres sends one notice for identical payloads of one transaction, so
-- "mark all read" costs one however many rows it marks.
CREATE FUNCTION mine_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_mine', OLD.user_id::text);
    ELSE
        PERFORM pg_notify('gavel_mine', NEW.user_id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_read_notify AFTER UPDATE OF read_at ON notifications
    FOR EACH ROW WHEN (OLD.read_at IS DISTINCT FROM NEW.read_at) EXECUTE FUNCTION mine_notify();
CREATE TRIGGER watches_notify AFTER INSERT OR DELETE ON watches
    FOR EACH ROW EXECUTE FUNCTION mine_notify();
