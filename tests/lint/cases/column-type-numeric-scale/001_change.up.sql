SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN c numeric(10,2);
-- PostgreSQL rewrites the table for this change
ALTER TABLE users ALTER COLUMN c TYPE numeric(10,4);
