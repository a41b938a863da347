-- migrate:run-in-tx false
DROP INDEX CONCURRENTLY users_email_idx;
