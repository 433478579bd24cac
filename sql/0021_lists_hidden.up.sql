-- Hiding a listing (moderation, 0020) takes it off the lists: the cached
-- front pages and rooms of every instance drop it as for the other changes
-- of 0003's trigger.
DROP TRIGGER auctions_relisted ON auctions;
CREATE TRIGGER auctions_relisted AFTER UPDATE ON auctions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
        OR OLD.title IS DISTINCT FROM NEW.title OR OLD.image_id IS DISTINCT FROM NEW.image_id
        OR OLD.seller_id IS DISTINCT FROM NEW.seller_id OR OLD.hidden IS DISTINCT FROM NEW.hidden
        OR OLD.cancel_reason IS DISTINCT FROM NEW.cancel_reason)
    EXECUTE FUNCTION lists_notify();
