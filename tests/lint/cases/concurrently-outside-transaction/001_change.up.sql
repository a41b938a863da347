-- migrate:run-in-tx false
CREATE UNIQUE INDEX CONCURRENTLY users_login_idx ON users (login);
