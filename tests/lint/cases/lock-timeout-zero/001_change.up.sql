SET lock_timeout = 0;
ALTER TABLE users ALTER COLUMN name SET DEFAULT 'anonymous';
