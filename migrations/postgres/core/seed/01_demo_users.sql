-- Demo accounts for a developer's or a test database: loaded by `migrate seed --data`
-- in the environments below only, never in production.
-- migrate:env dev,test
INSERT INTO users (email, name) VALUES
    ('ada@example.com', 'Ada'),
    ('grace@example.com', 'Grace')
ON CONFLICT DO NOTHING; -- a changed file runs again whole
