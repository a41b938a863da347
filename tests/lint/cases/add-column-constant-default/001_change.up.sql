SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN score integer NOT NULL DEFAULT 0;
