-- Retire the old sessions.
-- migrate:lint-ignore ban-drop-table nobody reads it since release 4.2
SET lock_timeout = '5s';
DROP TABLE legacy_sessions;
