SET lock_timeout = '5s';
-- migrate:lint-ignore require-concurrent-index-creation
CREATE INDEX flags_name_idx ON flags (name);
