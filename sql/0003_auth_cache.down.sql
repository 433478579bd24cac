DROP TRIGGER IF EXISTS auctions_relisted ON auctions;
DROP TRIGGER IF EXISTS auctions_listed ON auctions;
DROP FUNCTION IF EXISTS lists_notify();
DROP TABLE IF EXISTS server_secrets;
DROP TRIGGER IF EXISTS sessions_notify ON sessions;
DROP FUNCTION IF EXISTS auth_notify_session();
DROP TRIGGER IF EXISTS users_notify ON users;
DROP FUNCTION IF EXISTS auth_notify_user();
