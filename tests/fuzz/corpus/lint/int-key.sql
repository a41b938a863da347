CREATE TABLE plans (id integer PRIMARY KEY, name text);
