DROP TRIGGER watches_notify ON watches;
DROP TRIGGER notifications_read_notify ON notifications;
DROP FUNCTION mine_notify();
