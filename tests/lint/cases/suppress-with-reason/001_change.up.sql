-- migrate:lint-ignore require-concurrent-index-creation the table holds 40 rows
CREATE INDEX flags_name_idx ON flags (name);
