-- migrate:phase contract
-- migrate:lint-ignore ban-drop-column,renaming-column nothing reads them since v42
SET lock_timeout = '5s';
ALTER TABLE accounts DROP COLUMN nickname;
ALTER TABLE accounts RENAME COLUMN mail TO email_address;
