SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now();
