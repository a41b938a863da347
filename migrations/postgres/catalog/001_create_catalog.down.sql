-- CASCADE: the repeatable view product_listing (repeatable/product_listing.sql) reads
-- these tables; rolling back marks it to be applied again by the next `migrate up`.
DROP TABLE products CASCADE;
DROP TABLE categories;
