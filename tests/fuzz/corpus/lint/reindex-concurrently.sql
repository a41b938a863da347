-- migrate:run-in-tx false
REINDEX INDEX CONCURRENTLY users_email_idx;
