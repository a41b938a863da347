-- migrate:phase contract
SET lock_timeout = '5s';
ALTER TABLE users RENAME TO accounts;
