SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN c cidr;
-- PostgreSQL does not rewrite the table for this change
ALTER TABLE users ALTER COLUMN c TYPE inet;
