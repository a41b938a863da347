CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE INDEX t_v_idx ON t (v);
-- a table created in this file is empty: clustering it blocks no one
CLUSTER t USING t_v_idx;
