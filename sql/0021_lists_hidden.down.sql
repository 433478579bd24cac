DROP TRIGGER auctions_relisted ON auctions;
CREATE TRIGGER auctions_relisted AFTER UPDATE ON auctions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
        OR OLD.title IS DISTINCT FROM NEW.title OR OLD.image_id IS DISTINCT FROM NEW.image_id
        OR OLD.seller_id IS DISTINCT FROM NEW.seller_id)
    EXECUTE FUNCTION lists_notify();
