SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN nickname text;
CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
ALTER TABLE audit RENAME COLUMN note TO remark;
ALTER TABLE audit ALTER COLUMN remark SET NOT NULL;
DROP TABLE audit;
