-- migrate:phase contract
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN nick varchar(40);
ALTER TABLE users ALTER COLUMN nick TYPE varchar(20);
