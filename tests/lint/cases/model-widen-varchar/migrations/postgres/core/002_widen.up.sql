SET lock_timeout = '5s';
-- an earlier file created nick varchar(20), price numeric(10,2), note text
ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(40);
ALTER TABLE accounts ALTER COLUMN price TYPE numeric(14,2);
ALTER TABLE accounts ALTER COLUMN note TYPE text;
