SET lock_timeout = '5s';
-- email was created NOT NULL, id is the primary key: both no-ops
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;
ALTER TABLE accounts ALTER COLUMN id SET NOT NULL;
