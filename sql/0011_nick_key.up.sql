-- nick_key is the nickname's confusable skeleton (auth.NickKey: NFKC, look-
-- alike letters mapped, case folded): two nicknames that look the same
-- cannot both be taken. The application writes it with every nickname.
-- Existing rows get lower(nick), which users_nick_key already keeps
-- unique, so this migration cannot fail on old lookalikes; they keep their
-- names, and no new lookalike of theirs can be taken.
ALTER TABLE users ADD COLUMN nick_key text;
UPDATE users SET nick_key = lower(nick);
CREATE UNIQUE INDEX users_nick_skeleton_key ON users (nick_key);
