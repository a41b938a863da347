CREATE TEMP TABLE scratch (id int);
DROP TABLE scratch;
