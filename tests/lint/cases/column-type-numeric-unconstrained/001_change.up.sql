SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN c numeric(10,2);
-- PostgreSQL does not rewrite the table for this change
ALTER TABLE users ALTER COLUMN c TYPE numeric;
