DROP INDEX IF EXISTS users_nick_skeleton_key;
ALTER TABLE users DROP COLUMN IF EXISTS nick_key;
