CREATE TABLE catalog_v2 (id int);
