DROP TRIGGER auctions_notify_end ON auctions;
DROP FUNCTION auctions_notify_end();
DROP TRIGGER bids_notify ON bids;
DROP FUNCTION bids_notify();
DROP FUNCTION notification_add(bigint, bigint, text, bigint);
DROP TABLE notifications;
DROP TABLE notify_prefs;
DROP TABLE watches;
