SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN c numeric;
-- PostgreSQL rewrites the table for this change
ALTER TABLE users ALTER COLUMN c TYPE numeric(10,2);
