SET lock_timeout = '5s';
ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(10);
