SELECT set_config('lock_timeout', '3s', true);
ALTER TABLE users ALTER COLUMN name SET DEFAULT 'anonymous';
