-- migrate:phase contract
-- migrate:lint-ignore ban-drop-table accounts moved to the billing service
SET lock_timeout = '5s';
DROP VIEW account_nicks;
ALTER TABLE orders DROP CONSTRAINT orders_account_id_fkey;
DROP TABLE accounts;
