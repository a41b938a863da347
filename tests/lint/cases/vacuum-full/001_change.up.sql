-- migrate:run-in-tx false
SET lock_timeout = '5s';
VACUUM FULL users;
