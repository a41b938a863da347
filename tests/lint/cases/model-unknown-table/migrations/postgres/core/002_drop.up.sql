-- migrate:phase contract
-- migrate:lint-ignore ban-drop-table,renaming-table the tables are unused since v42
SET lock_timeout = '5s';
DROP TABLE acounts;
ALTER TABLE ordrs RENAME TO purchases;
DROP VIEW account_nick;
