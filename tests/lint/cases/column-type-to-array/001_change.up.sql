SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN n integer;
-- an integer column becomes an array: values the running application writes are refused
ALTER TABLE users ALTER COLUMN n TYPE integer[] USING ARRAY[n];
