-- Second deploy: nothing reads legacy_flag any more.
-- migrate:phase contract
-- migrate:lint-ignore ban-drop-column unread since release 4.2
SET lock_timeout = '5s';
ALTER TABLE users DROP COLUMN legacy_flag;
ALTER TABLE users RENAME COLUMN name TO full_name;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
