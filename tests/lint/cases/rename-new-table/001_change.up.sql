CREATE TABLE staging (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
ALTER TABLE staging RENAME TO imports;
CREATE INDEX imports_id_idx ON imports (id);
