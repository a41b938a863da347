CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, nick varchar(20), email text NOT NULL, price numeric(10,2), note text);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint REFERENCES accounts (id));
CREATE VIEW account_nicks AS SELECT a.id, a.nick FROM accounts a;
