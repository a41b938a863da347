CREATE TABLE plans (id serial PRIMARY KEY, name text);
