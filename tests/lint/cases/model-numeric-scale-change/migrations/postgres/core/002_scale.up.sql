SET lock_timeout = '5s';
ALTER TABLE accounts ALTER COLUMN price TYPE numeric(12,1);
