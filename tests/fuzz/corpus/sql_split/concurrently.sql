-- migrate:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx
    ON users (lower(email));

/* second */
CREATE UNIQUE INDEX CONCURRENTLY orders_ref_idx ON orders (ref) WHERE ref <> ';';
DROP INDEX CONCURRENTLY IF EXISTS old_idx;
