CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text);
CREATE INDEX items_sku_idx ON items (sku);
