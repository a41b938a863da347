-- migrate:phase contract
-- migrate:lint-ignore ban-drop-table accounts moved to the billing service
SET lock_timeout = '5s';
DROP TABLE accounts;
