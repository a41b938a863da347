-- basic statements and a trailing one without semicolon
CREATE TABLE t (id int PRIMARY KEY, note text);
INSERT INTO t VALUES (1, 'a;b'), (2, 'it''s');
SELECT 1
