SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN code TYPE text USING code::text;
