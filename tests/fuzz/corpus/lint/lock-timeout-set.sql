SET lock_timeout = '3s';
ALTER TABLE users ALTER COLUMN name SET DEFAULT 'anonymous';
