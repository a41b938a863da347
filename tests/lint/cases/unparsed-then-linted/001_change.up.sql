-- the statements around the one the grammar refuses are linted, at their own lines
ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a + 1) VIRTUAL;
CREATE INDEX t_a ON t (a);
SELECT JSON_OBJECT('a' VALUE 1 RETURNING jsonb), 1;
ALTER TABLE t DROP COLUMN b;
