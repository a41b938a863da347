SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN tenant_id bigint;
