-- migrate:phase contract
-- migrate:lint-ignore ban-drop-column,ban-drop-table cleanup of objects some databases never had
SET lock_timeout = '5s';
DROP TABLE IF EXISTS legacy_accounts;
ALTER TABLE accounts DROP COLUMN IF EXISTS legacy_flag;
ALTER TABLE IF EXISTS legacy_orders DROP COLUMN total;
DROP VIEW IF EXISTS legacy_view;
