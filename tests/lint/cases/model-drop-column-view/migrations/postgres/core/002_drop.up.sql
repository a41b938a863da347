-- migrate:phase contract
-- migrate:lint-ignore ban-drop-column nothing reads nick since v42
SET lock_timeout = '5s';
ALTER TABLE accounts DROP COLUMN nick;
-- note is not used by the view: fine
ALTER TABLE accounts DROP COLUMN note;
