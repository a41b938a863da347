-- migrate:run-in-tx false
VACUUM (ANALYZE) users;
